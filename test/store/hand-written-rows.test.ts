import { describe, expect, test } from "bun:test";
import journal from "../../db/migrations/sqlite/meta/_journal.json";
import { sqliteMigrations } from "../../db/migrations.ts";
import { CLAIM, DEAD_WITHOUT_TIME, NEXT_DUE, NEXT_LEASE_END, UNSCHEDULED } from "../../src/store/sqlite-statements.ts";
import { freshRunner, T0 } from "../support/db.ts";

describe("rows the web application writes straight into cron_jobs (SQLite)", () => {
  test("an INSERT naming only the seed's columns is a valid job that runs at the next tick", async () => {
    const { store, runner } = freshRunner();
    store.client.run(`INSERT INTO cron_jobs (name, job_type, user_id, run_at, is_active) VALUES ('seed-once', 'noop', NULL, ${T0 - 60_000}, 1)`);
    store.client.run(`INSERT INTO cron_jobs (name, job_type, user_id, interval_minutes, is_active) VALUES ('seed-every', 'noop', NULL, 15, 1)`);
    const tick = await runner.runDueJobs();
    expect(tick.results.map((r) => [r.name, r.status]).sort()).toEqual([["seed-every", "succeeded"], ["seed-once", "succeeded"]]);
    const rows = store.client.query<{ name: string; next_run_at: number; last_run_at: number }, []>("SELECT name, next_run_at, last_run_at FROM cron_jobs").all();
    expect(rows).toEqual([{ name: "seed-every", next_run_at: T0 + 15 * 60_000, last_run_at: T0 }]);
  });

  test("the store's own statements find unscheduled, due and next-to-wake rows through indexes, not a table scan", () => {
    const { store } = freshRunner();
    const plan = (statement: string, params: Record<string, string | number> | (string | number)[]) => store.client
      .query<{ detail: string }, any>(`EXPLAIN QUERY PLAN ${statement}`).all(params as any).map((p) => p.detail).join(" | ");
    expect(plan(UNSCHEDULED, [500])).toContain("SEARCH cron_jobs USING INDEX cron_jobs_due_idx (next_run_at=?)");
    const claim = plan(CLAIM, { $now: 5, $due: 5, $runId: "r", $margin: 1000, $limit: 500 });
    expect(claim).toContain("SEARCH cron_jobs USING INDEX cron_jobs_due_idx (next_run_at<?)");
    expect(claim).not.toContain("SCAN cron_jobs");
    expect(plan(NEXT_DUE, [5])).toContain("USING INDEX cron_jobs_due_idx");
    expect(plan(NEXT_DUE, [5])).not.toContain("SCAN cron_jobs");
    expect(plan(NEXT_LEASE_END, [5])).not.toContain("SCAN cron_jobs");
    // Rows whose next_run_at is no time: two ranges at the ends of the due index.
    expect(plan(DEAD_WITHOUT_TIME, ["e", 5])).toContain("SEARCH cron_jobs USING COVERING INDEX cron_jobs_due_idx (next_run_at>?)");
    expect(plan(DEAD_WITHOUT_TIME, ["e", 5])).toContain("SEARCH cron_jobs USING COVERING INDEX cron_jobs_due_idx (next_run_at<?)");
    expect(plan(DEAD_WITHOUT_TIME, ["e", 5])).not.toContain("SCAN cron_jobs");
  });

  test("rows with an unusable schedule or payload never crash a tick: each is deactivated with a clear error", async () => {
    const { store, runner } = freshRunner();
    const insert = (name: string, columns: string, values: string) =>
      store.client.run(`INSERT INTO cron_jobs (name, job_type, is_active, ${columns}) VALUES ('${name}', 'noop', 1, ${values})`);
    insert("bad-cron", "cron", "'every tuesday'");
    insert("bad-zone", "cron, timezone", "'* * * * *', 'Mars/Olympus'");
    insert("never", "cron", "'0 0 31 2 *'");
    insert("bad-json", "run_at, payload", `${T0 - 1}, '{not json'`);
    insert("unknown-type", "run_at", `${T0 - 1}`);
    store.client.run("UPDATE cron_jobs SET job_type = 'gone_type' WHERE name = 'unknown-type'");
    insert("good", "run_at", `${T0 - 1}`);
    const tick = await runner.runDueJobs();
    expect(tick.succeeded).toBe(1);
    const rows = store.client.query<{ name: string; is_active: number; last_error: string }, []>(
      "SELECT name, is_active, last_error FROM cron_jobs ORDER BY name").all();
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(byName["good"]).toBeUndefined();
    for (const name of ["bad-cron", "bad-zone", "never", "bad-json", "unknown-type"]) {
      expect(byName[name]?.is_active).toBe(0);
      expect(byName[name]?.last_error.length).toBeGreaterThan(10);
    }
    expect(byName["bad-zone"]!.last_error).toContain("Mars/Olympus");
    expect(byName["bad-json"]!.last_error).toBe("invalid payload: not valid JSON");
    expect(byName["unknown-type"]!.last_error).toContain("gone_type");
    expect((await runner.runDueJobs()).claimed).toBe(0);
  });

  test.each([
    ["no schedule at all", "name, job_type", "'x', 'noop'", "cron_jobs_schedule_check"],
    ["interval and cron", "name, job_type, interval_minutes, cron", "'x', 'noop', 5, '* * * * *'", "cron_jobs_one_recurrence_check"],
    ["interval 0", "name, job_type, interval_minutes", "'x', 'noop', 0", "cron_jobs_interval_check"],
    ["fractional interval", "name, job_type, interval_minutes", "'x', 'noop', 1.5", "cron_jobs_types_check"],
    ["run_at as text", "name, job_type, run_at", "'x', 'noop', '2026-01-01 00:00:00'", "cron_jobs_types_check"],
    ["timeout 0", "name, job_type, run_at, timeout_seconds", "'x', 'noop', 1, 0", "cron_jobs_timeout_check"],
    ["max_attempts 0", "name, job_type, run_at, max_attempts", "'x', 'noop', 1, 0", "cron_jobs_max_attempts_check"],
    ["no job_type", "name, run_at", "'x', 1", "NOT NULL"],
    ["an unknown user", "name, job_type, run_at, user_id", "'x', 'noop', 1, 42", "FOREIGN KEY"],
  ])("the database itself refuses %s", (_, columns, values, message) => {
    const { store } = freshRunner();
    expect(() => store.client.run(`INSERT INTO cron_jobs (${columns}) VALUES (${values})`)).toThrow(message);
    expect(store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs").get()!.n).toBe(0);
  });

  test("(name, user_id) is unique, a NULL user_id counting as one value", () => {
    const { store } = freshRunner();
    store.client.run("INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('dup', 'noop', 1)");
    expect(() => store.client.run("INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('dup', 'noop', 2)")).toThrow("UNIQUE");
    store.client.run("INSERT INTO users (email, status) VALUES ('a@example.com', 'pending')");
    store.client.run("INSERT INTO cron_jobs (name, job_type, run_at, user_id) VALUES ('dup', 'noop', 1, 1)");
    expect(() => store.client.run("INSERT INTO cron_jobs (name, job_type, run_at, user_id) VALUES ('dup', 'noop', 1, 1)")).toThrow("UNIQUE");
  });

  test("deleting a user deletes their jobs (ON DELETE CASCADE), ids are never reused", () => {
    const { store } = freshRunner();
    store.client.run("INSERT INTO users (email, status) VALUES ('a@example.com', 'pending')");
    store.client.run("INSERT INTO cron_jobs (name, job_type, run_at, user_id) VALUES ('mine', 'noop', 1, 1)");
    store.client.run("DELETE FROM users WHERE id = 1");
    expect(store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs").get()!.n).toBe(0);
    store.client.run("INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('next', 'noop', 1)");
    expect(store.client.query<{ id: number }, []>("SELECT id FROM cron_jobs").get()!.id).toBe(2);
  });

  test("every migration in drizzle-kit's journal is embedded, and a fresh file is fully migrated", () => {
    expect(sqliteMigrations.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
    const { store } = freshRunner();
    const pragmas = { journal: store.client.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode,
      fk: store.client.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()!.foreign_keys };
    expect(pragmas).toEqual({ journal: "wal", fk: 1 });
    const tables = store.client.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["users", "cron_jobs", "cron_job_runs", "__drizzle_migrations"]));
  });
});
