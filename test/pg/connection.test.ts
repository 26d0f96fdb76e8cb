import { describe, expect, test } from "bun:test";
import path from "node:path";
import { ManualClock } from "../../src/clock.ts";
import { AppError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { buildApp } from "../../src/server/app.ts";
import { PgStore } from "../../src/store/pg-store.ts";
import { postgresAvailable } from "../support/backends.ts";
import { testRegistry } from "../support/jobs.ts";
import { dbNow, insertJobs, notifyChanged, startInstance, waitFor } from "../support/pg-instances.ts";
import { onCleanup } from "../support/cleanup.ts";
import { freshPgStore, PG_ADMIN_URL, pgClient } from "../support/pg.ts";
import { cronRequest, SECRETS } from "../support/server.ts";
import { testRuntime } from "../support/runtime.ts";

const root = path.resolve(import.meta.dir, "../..");

/** Simulates a database restart, limited to one test database: refuse new connections, end the open ones. */
async function takeDown(admin: ReturnType<typeof pgClient>, database: string) {
  await admin.unsafe(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
  await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]);
}

async function bringUp(admin: ReturnType<typeof pgClient>, database: string) {
  await admin.unsafe(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
}

function capturingLogger() {
  const errors: Record<string, unknown>[] = [];
  const logger: Logger = { info() {}, warn() {}, error: (msg, fields) => { errors.push({ msg, ...fields }); } };
  return { logger, errors };
}

describe.skipIf(!postgresAvailable)("PostgreSQL connection trouble", () => {
  test("the database restarting during a tick: 503 with a clear log line, no half-finished rows, then it recovers by itself", async () => {
    const { store, url, name } = await freshPgStore();
    const admin = pgClient(PG_ADMIN_URL, 1);
    onCleanup(() => bringUp(admin, name)); // so that the database can be dropped even if the test fails
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    const registry = testRegistry();
    const { logger, errors } = capturingLogger();
    const runtime = testRuntime(store, { clock, registry, logger, runner: { abortGraceMs: 50 } });
    const { runner } = runtime;
    const app = buildApp({ ...runtime, secrets: SECRETS, freshnessDir: "/nonexistent" });
    // Slow jobs first (by next_run_at), so the tick is still running when the database goes away.
    const sql = pgClient(url);
    await sql`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, payload)
      SELECT 'slow-' || i, 'sleep', ${new Date(clock.now() - 2000)}, ${new Date(clock.now() - 2000)}, '{"ms":150}' FROM generate_series(1, 30) AS i`;
    await insertJobs(sql, { prefix: "fast", count: 300, dueAt: clock.now() - 1000 });
    const ids = (await sql`SELECT id::int FROM cron_jobs`).map((r: { id: number }) => r.id);
    await sql.close();

    const tick = app.handle(cronRequest());
    await Bun.sleep(200);
    await takeDown(admin, name);
    const response = await tick;
    expect(response.status).toBe(503);
    const body = await response.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe("UNAVAILABLE");
    expect(body.error.message).toMatch(/database unavailable: .*(restarting|terminated|closed|does not accept)/);
    expect(body.error.message).not.toMatch(/\n\s+at /); // no stack trace
    expect(errors.find((e) => e.msg === "tick failed")?.error).toBe(body.error.message);
    expect((await app.handle(new Request("http://localhost/healthz"))).status).toBe(503);

    await bringUp(admin, name);
    // No half-finished rows: each job is either still there with no history, or gone with exactly one history row.
    const check = pgClient(url);
    const [state] = await check`SELECT
      (SELECT count(*)::int FROM cron_jobs j WHERE EXISTS (SELECT 1 FROM cron_job_runs r WHERE r.job_id = j.id)) AS both,
      (SELECT count(*)::int FROM unnest(${`{${ids.join(",")}}`}::bigint[]) AS i(id)
        WHERE NOT EXISTS (SELECT 1 FROM cron_jobs j WHERE j.id = i.id) AND NOT EXISTS (SELECT 1 FROM cron_job_runs r WHERE r.job_id = i.id)) AS lost,
      (SELECT count(*)::int FROM cron_job_runs) AS finished`;
    expect(state).toMatchObject({ both: 0, lost: 0 });
    expect(state.finished).toBeLessThan(ids.length);

    // Back up: the same pool reconnects on its own; once the dead tick's leases end, everything runs, once.
    expect((await app.handle(new Request("http://localhost/healthz"))).status).toBe(200);
    const again = await app.handle(cronRequest());
    expect(again.status).toBe(200);
    clock.advance(120_000);
    const last = await app.handle(cronRequest());
    expect(last.status).toBe(200);
    const [after] = await check`SELECT (SELECT count(*)::int FROM cron_jobs) AS left,
      (SELECT count(DISTINCT job_id)::int FROM cron_job_runs) AS jobs, (SELECT count(*)::int FROM cron_job_runs) AS runs`;
    expect(after).toEqual({ left: 0, jobs: ids.length, runs: ids.length });
  }, 30_000);

  test("app serve: ticks fail with 503 while the database is down, and it picks up again by itself, LISTEN included", async () => {
    const { url, name } = await freshPgStore();
    const admin = pgClient(PG_ADMIN_URL, 1);
    onCleanup(() => bringUp(admin, name));
    const instance = await startInstance(url);
    await takeDown(admin, name);
    const post = () => fetch(`${instance.url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${SECRETS.cronSecret}` } });
    const down = await post();
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: { message: string } }).error.message).toContain("database unavailable");
    expect((await fetch(`${instance.url}/healthz`)).status).toBe(503);
    expect(instance.logs().some((l) => l.level === "error" && String(l.error).includes("database unavailable"))).toBe(true);

    await bringUp(admin, name);
    expect((await post()).status).toBe(200);
    // A job announced after the outage still reaches the instance's timer: its LISTEN connection came back.
    const sql = pgClient(url);
    expect(await waitFor(async () =>
      (await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${name} AND query ILIKE 'LISTEN%'`)[0].n > 0, 15_000, 100)).toBe(true);
    await insertJobs(sql, { prefix: "after", count: 1, dueAt: (await dbNow(sql)) + 500 });
    await notifyChanged(sql);
    expect(await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_job_runs`)[0].n === 1, 10_000)).toBe(true);
  }, 40_000);

  test("a database that refuses connections: opening fails at once with UNAVAILABLE and a clear message", async () => {
    const closed = new URL(PG_ADMIN_URL);
    closed.port = "1"; // nothing listens there
    const failure = await PgStore.open(closed.toString(), { connectTimeoutSeconds: 3 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe("UNAVAILABLE");
    expect((failure as AppError).message).toMatch(/^cannot migrate the database: database unavailable: connection refused/);

    const child = Bun.spawn([process.execPath, path.join(root, "src/cli/index.ts"), "migrate"], {
      cwd: root, env: { ...process.env, DATABASE_URL: closed.toString() }, stdout: "pipe", stderr: "pipe",
    });
    expect(await child.exited).toBe(2);
    const stderr = await new Response(child.stderr).text();
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("database unavailable: connection refused");
  }, 20_000);
});
