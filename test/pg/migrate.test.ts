import { describe, expect, test } from "bun:test";
import path from "node:path";
import journal from "../../db/migrations/pg/meta/_journal.json";
import { pgMigrations } from "../../db/migrations.ts";
import { PgStore } from "../../src/store/pg-store.ts";
import { postgresAvailable } from "../support/backends.ts";
import { onCleanup } from "../support/cleanup.ts";
import { freshPgDatabase, pgClient } from "../support/pg.ts";

const root = path.resolve(import.meta.dir, "../..");

describe.skipIf(!postgresAvailable)("PostgreSQL migrations", () => {
  test("every migration in drizzle-kit's journal is embedded", () => {
    expect(pgMigrations.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
    for (const m of pgMigrations) expect(m.sql.length).toBeGreaterThan(100);
  });

  test("ten `app migrate` processes at once on an empty database all succeed, and apply each migration once", async () => {
    const { url } = await freshPgDatabase();
    const children = Array.from({ length: 10 }, () => {
      const child = Bun.spawn([process.execPath, path.join(root, "src/cli/index.ts"), "migrate"], {
        cwd: root, env: { ...process.env, DATABASE_URL: url }, stdout: "pipe", stderr: "pipe",
      });
      onCleanup(() => { child.kill("SIGKILL"); });
      return child;
    });
    const codes = await Promise.all(children.map((c) => c.exited));
    const errors = await Promise.all(children.map((c) => new Response(c.stderr).text()));
    expect({ codes, errors: errors.filter(Boolean) }).toEqual({ codes: Array(10).fill(0), errors: [] });
    for (const out of await Promise.all(children.map((c) => new Response(c.stdout).text()))) {
      expect(out).toBe("database is up to date (postgres)\n");
    }
    const sql = pgClient(url);
    const applied = await sql`SELECT created_at::text AS at FROM drizzle.__drizzle_migrations ORDER BY id`;
    expect(applied.map((r: { at: string }) => Number(r.at))).toEqual(pgMigrations.map((m) => m.when));
    const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
    expect(tables.map((t: { tablename: string }) => t.tablename)).toEqual(["cron_job_changes", "cron_job_runs", "cron_jobs", "cron_settings", "users"]);
  }, 60_000);

  test("ten stores opening at once in one process migrate once; reopening applies nothing", async () => {
    const { url } = await freshPgDatabase();
    const stores = await Promise.all(Array.from({ length: 10 }, () => PgStore.open(url, { poolSize: 2 })));
    for (const store of stores) onCleanup(() => store.close());
    const sql = pgClient(url);
    expect((await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0].n).toBe(pgMigrations.length);
    const again = await PgStore.open(url, { poolSize: 1 });
    await again.close();
    expect((await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0].n).toBe(pgMigrations.length);
  }, 30_000);
});
