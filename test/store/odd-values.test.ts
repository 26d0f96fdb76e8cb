/**
 * Odd values written by hand never break a reader or a tick (SPEC §2): a time outside the range
 * of a `Date` (SQLite `9000000000000000`, PostgreSQL `infinity` or a year past 275760), an
 * interval whose next slot cannot be computed, a timeout too large for a timer. With such a row
 * in the table, `jobs.list`, the dashboard's first page and the next tick keep working; the row
 * is made dead with a clear `last_error` (or, for the timeout, clamped and run).
 */
import { expect, test } from "bun:test";
import { describeOn, postgresBackend, sqliteBackend } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import { foreignWriter } from "../support/foreign.ts";
import { SECRETS, testApp } from "../support/server.ts";

interface OddCase {
  name: string;
  /** Columns and values of the odd row, as the web application would insert it. */
  columns: string;
  values: string;
  /** What becomes of it at the next tick: dead with that error, or it runs (and a recurring row stays). */
  expect: { dead: string } | { runs: true; stays?: true };
}

const sqliteCases: OddCase[] = [
  { name: "run_at past the range of a Date", columns: "run_at", values: "9000000000000000", expect: { dead: "runAt: not a valid time" } },
  { name: "run_at before the range of a Date", columns: "run_at", values: "-9000000000000000", expect: { dead: "runAt: not a valid time" } },
  { name: "an interval whose next slot cannot be computed", columns: "interval_minutes", values: "9223372036854775807", expect: { dead: "intervalMinutes: 9223372036854776000 is too large" } },
  { name: "an interval from a run_at past the range of a Date", columns: "interval_minutes, run_at", values: "5, 9000000000000000", expect: { dead: "runAt: not a valid time" } },
  { name: "a timeout too large for a timer", columns: "run_at, timeout_seconds", values: `${T0 - 1_000}, 9223372036854775807`, expect: { runs: true } },
  { name: "attempts at the largest integer", columns: "run_at, max_attempts, attempts", values: `${T0 - 1_000}, 3, 9223372036854775807`, expect: { dead: "gave up after 3 attempts" } },
  { name: "run_count at the largest integer", columns: "interval_minutes, run_at, run_count", values: `60, ${T0 - 1_000}, 9223372036854775807`, expect: { runs: true, stays: true } },
  { name: "next_run_at past the range of a Date", columns: "run_at, next_run_at", values: `${T0 - 1_000}, 9000000000000000`, expect: { dead: "next_run_at is not a time a date can hold" } },
  { name: "next_run_at before the range of a Date", columns: "run_at, next_run_at", values: `${T0 - 1_000}, -9000000000000000`, expect: { dead: "next_run_at is not a time a date can hold" } },
  // SQLite's CHECKs pass text (it sorts after every number): a policy column of the wrong type.
  { name: "a text jitter_seconds on an interval job", columns: "interval_minutes, run_at, jitter_seconds", values: `5, ${T0 - 1_000}, 'x'`, expect: { dead: 'invalid schedule policy: jitter_seconds: "x" is not a number' } },
  { name: "a text jitter_seconds on a cron job", columns: "cron, jitter_seconds", values: "'* * * * *', 'x'", expect: { dead: 'invalid schedule policy: jitter_seconds: "x" is not a number' } },
  { name: "a text max_runs", columns: "interval_minutes, run_at, max_runs", values: `5, ${T0 - 1_000}, 'x'`, expect: { dead: "max_runs" } },
  { name: "a text ends_at", columns: "interval_minutes, run_at, ends_at", values: `5, ${T0 - 1_000}, 'soon'`, expect: { dead: "ends_at: not a time a date can hold" } },
  { name: "a text timeout_seconds", columns: "run_at, timeout_seconds", values: `${T0 - 1_000}, 'x'`, expect: { dead: "timeout_seconds" } },
  // A lease whose end is no time is no lease: the job is due as if unleased.
  { name: "a lease whose end is text", columns: "run_at, locked_until, locked_by", values: `${T0 - 1_000}, 'soon', 'ghost'`, expect: { runs: true } },
  { name: "a lease whose end is past the range of a Date", columns: "run_at, locked_until, locked_by", values: `${T0 - 1_000}, 9000000000000000, 'ghost'`, expect: { runs: true } },
];

const pgCases: OddCase[] = [
  { name: "run_at infinity", columns: "run_at", values: "'infinity'", expect: { dead: "runAt: not a valid time" } },
  { name: "run_at -infinity", columns: "run_at", values: "'-infinity'", expect: { dead: "runAt: not a valid time" } },
  { name: "run_at in the year 280000", columns: "run_at", values: "'280000-01-01T00:00:00Z'", expect: { dead: "runAt: not a valid time" } },
  { name: "an interval from run_at infinity", columns: "interval_minutes, run_at", values: "5, 'infinity'", expect: { dead: "runAt: not a valid time" } },
  { name: "a timeout too large for a timer", columns: "run_at, timeout_seconds", values: `'${new Date(T0 - 1_000).toISOString()}', 2147483647`, expect: { runs: true } },
  { name: "run_at 4713 BC, the first time PostgreSQL holds", columns: "run_at", values: "'4713-01-01 00:00:00+00 BC'", expect: { runs: true } },
  { name: "an interval from 1 BC", columns: "interval_minutes, run_at", values: "525600, '0001-01-01 00:00:00+00 BC'", expect: { runs: true, stays: true } },
  { name: "attempts at the largest integer", columns: "run_at, max_attempts, attempts", values: `'${new Date(T0 - 1_000).toISOString()}', 3, 2147483647`, expect: { dead: "gave up after 3 attempts" } },
  { name: "run_count at the largest integer", columns: "interval_minutes, run_at, run_count", values: `60, '${new Date(T0 - 1_000).toISOString()}', 2147483647`, expect: { runs: true, stays: true } },
  { name: "next_run_at infinity", columns: "run_at, next_run_at", values: `'${new Date(T0 - 1_000).toISOString()}', 'infinity'`, expect: { dead: "next_run_at is not a time a date can hold" } },
  { name: "next_run_at -infinity", columns: "run_at, next_run_at", values: `'${new Date(T0 - 1_000).toISOString()}', '-infinity'`, expect: { dead: "next_run_at is not a time a date can hold" } },
  { name: "next_run_at in the year 280000", columns: "interval_minutes, next_run_at", values: "5, '280000-01-01T00:00:00Z'", expect: { dead: "next_run_at is not a time a date can hold" } },
  { name: "a lease that ends at infinity", columns: "run_at, locked_until, locked_by", values: `'${new Date(T0 - 1_000).toISOString()}', 'infinity', 'ghost'`, expect: { runs: true } },
];

for (const [backend, cases] of [[sqliteBackend, sqliteCases], [postgresBackend, pgCases]] as const) {
  describeOn(backend, `odd values written by hand (${backend.name})`, () => {
    test.each(cases.map((c) => [c.name, c] as const))("%s: lists, the dashboard's first page and the next tick keep working", async (_, odd) => {
      const { store, databaseUrl } = await backend.open();
      const { app, runner } = testApp(store);
      const { run, time } = foreignWriter(backend.name, databaseUrl);
      await run(`INSERT INTO cron_jobs (name, job_type, ${odd.columns}) VALUES ('odd', 'noop', ${odd.values})`);
      // A server looks at once (SPEC §2: seen within 100 ms), not at the next minute.
      expect(await store.nextWakeAt(T0)).toBeLessThanOrEqual(T0);
      await run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('normal', 'noop', ${time(T0 - 1_000)})`);
      const auth = { authorization: `Bearer ${SECRETS.adminToken}` };
      const firstPage = async () => {
        const list = await app.handle(new Request(`http://localhost/trpc/jobs.list?input=${encodeURIComponent(JSON.stringify({ limit: 50 }))}`, { headers: auth }));
        const summary = await app.handle(new Request("http://localhost/trpc/dashboard.summary", { headers: auth }));
        const metrics = await app.handle(new Request("http://localhost/metrics"));
        expect([list.status, summary.status, metrics.status]).toEqual([200, 200, 200]);
        const items = ((await list.json()) as { result: { data: { items: { name: string; state: string; lastError: string | null }[] } } }).result.data.items;
        return Object.fromEntries(items.map((item) => [item.name, item]));
      };
      expect(Object.keys(await firstPage()).sort()).toEqual(["normal", "odd"]);

      const tick = await runner.runDueJobs();
      expect(tick.results.find((r) => r.name === "normal")?.status).toBe("succeeded");
      const after = await firstPage();
      if ("dead" in odd.expect) {
        expect(after["odd"]?.state).toBe("dead");
        expect(after["odd"]?.lastError).toContain(odd.expect.dead);
      } else {
        expect(tick.results.find((r) => r.name === "odd")?.status).toBe("succeeded");
        if (odd.expect.stays) expect(after["odd"]?.state).toBe("active");
        else expect(after["odd"]).toBeUndefined();
      }
      // And the tick after that: nothing runs again, nothing fails.
      const next = await runner.runDueJobs();
      expect([next.claimed, next.failed]).toEqual([0, 0]);
    });
  });
}
