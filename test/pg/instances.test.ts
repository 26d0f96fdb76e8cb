import { describe, expect, test } from "bun:test";
import { postgresAvailable } from "../support/backends.ts";
import { auditViolations, dbNow, faketimeAvailable, insertJobs, installAudit, notifyChanged, startInstance, waitFor } from "../support/pg-instances.ts";
import { freshPgStore, pgClient } from "../support/pg.ts";
import { waitForTicks } from "../support/server-process.ts";
import { SECRETS } from "../support/server.ts";

if (postgresAvailable && !faketimeAvailable) {
  console.warn("\n*** clock-skew test SKIPPED: libfaketime is missing (apt-get install faketime) ***\n");
}

/** SPEC §9 / issue 6: several `app serve` processes on one PostgreSQL database. */
describe.skipIf(!postgresAvailable)("several app serve instances on one PostgreSQL database", () => {
  test("three instances, 5,000 due one-time jobs and 50 recurring ones: every job runs exactly once", async () => {
    const { url } = await freshPgStore();
    const sql = pgClient(url);
    await installAudit(sql);
    const instances = await Promise.all([1, 2, 3].map(() => startInstance(url)));
    // Due shortly, so the three idle instances wake together on the notice and drain side by side.
    const dueAt = (await dbNow(sql)) + 1500;
    await insertJobs(sql, { prefix: "drain", count: 5000, dueAt, recurring: 50 });
    await notifyChanged(sql);

    const done = await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_job_runs`)[0].n >= 5050, 40_000, 100);
    expect(done).toBe(true);
    // Every run has finished (no lease left): a job run twice would be in the history by now.
    expect(await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_jobs WHERE locked_by IS NOT NULL`)[0].n === 0, 20_000, 50)).toBe(true);
    const [counts] = await sql`SELECT count(*)::int AS runs, count(DISTINCT job_id)::int AS jobs,
      count(*) FILTER (WHERE status <> 'succeeded')::int AS failed FROM cron_job_runs`;
    expect(counts).toEqual({ runs: 5050, jobs: 5050, failed: 0 });
    const [left] = await sql`SELECT count(*) FILTER (WHERE interval_minutes IS NULL)::int AS once,
      count(*) FILTER (WHERE interval_minutes IS NOT NULL AND next_run_at > ${new Date(dueAt)} AND locked_by IS NULL)::int AS recurring FROM cron_jobs`;
    expect(left).toEqual({ once: 0, recurring: 50 });
    expect(await auditViolations(sql)).toEqual({ early: [], stolen: [] });
    // They drained side by side: at least two instances ran jobs, each under its own ticks.
    const runners = await sql`SELECT runner, count(*)::int AS n, count(DISTINCT run_id)::int AS ticks FROM cron_job_runs GROUP BY runner`;
    expect(runners.filter((r: { n: number }) => r.n > 0).length).toBeGreaterThanOrEqual(2);
    for (const r of runners) expect(instances.map((i) => i.runner)).toContain(r.runner);
    const [ticks] = await sql`SELECT count(DISTINCT run_id)::int AS n FROM cron_job_runs`;
    expect(ticks.n).toBeGreaterThanOrEqual(2);
  }, 60_000);

  test.skipIf(!faketimeAvailable)("two instances whose clocks differ by five minutes: no job runs early, none twice", async () => {
    const { url } = await freshPgStore();
    const sql = pgClient(url);
    await installAudit(sql);
    const ahead = await startInstance(url, { faketime: "+5m" });
    const onTime = await startInstance(url);
    // The faked host really is five minutes ahead (its own log lines carry its wall clock).
    const listenedAt = Date.parse(String(ahead.logs().find((l) => l.msg === "listening")!.time));
    expect(listenedAt - Date.now()).toBeGreaterThan(4 * 60_000);

    const now = await dbNow(sql);
    // Jobs due over the next few seconds: a host trusting its own clock five minutes ahead would run them at once.
    for (let i = 0; i < 5; i++) await insertJobs(sql, { prefix: `due-${i}`, count: 40, dueAt: now + 1000 + i * 800 });
    // Jobs held by a run on a third host until now + 4 s: the fast host must not take them over early.
    await sql`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, attempts, locked_by, locked_until)
      SELECT 'held-' || i, 'noop', ${new Date(now - 1000)}, ${new Date(now - 1000)}, 1, 'another-host-run', ${new Date(now + 4000)}
      FROM generate_series(1, 20) AS i`;
    // A recurring job: its slots come from the shared clock too.
    await sql`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes, next_run_at) VALUES ('every', 'noop', ${new Date(now + 1500)}, 1, ${new Date(now + 1500)})`;
    await notifyChanged(sql);

    const done = await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_job_runs`)[0].n >= 221, 20_000, 100);
    expect(done).toBe(true);
    // Every run has finished (no lease left): a job run twice would be in the history by now.
    expect(await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_jobs WHERE locked_by IS NOT NULL`)[0].n === 0, 20_000, 50)).toBe(true);
    expect(await auditViolations(sql)).toEqual({ early: [], stolen: [] });
    const twice = await sql`SELECT job_id FROM cron_job_runs GROUP BY job_id HAVING count(*) > 1`;
    expect([...twice]).toEqual([]);
    const [held] = await sql`SELECT min(at) AS first FROM claim_audit WHERE prev_locked_by = 'another-host-run'`;
    expect(held.first.getTime()).toBeGreaterThanOrEqual(now + 4000);
    const [every] = await sql`SELECT next_run_at FROM cron_jobs WHERE name = 'every'`;
    expect(every.next_run_at.getTime()).toBe(now + 1500 + 60_000);
    // Both hosts ran jobs: the one five minutes ahead too (it trusts the database clock, not its own).
    const runners = new Set((await sql`SELECT DISTINCT runner FROM cron_job_runs`).map((r: { runner: string }) => r.runner));
    expect(runners.has(ahead.runner)).toBe(true);
    expect(runners.has(onTime.runner)).toBe(true);
  }, 60_000);

  test("a job created through instance A, due in 2 s, runs on time on instance B after A is stopped", async () => {
    const { url } = await freshPgStore();
    const sql = pgClient(url);
    await installAudit(sql);
    const a = await startInstance(url);
    const b = await startInstance(url);
    // B's start-up tick is over (nothing due): its timer now sleeps a minute unless a notice re-arms it.
    await waitForTicks(b.url);
    const bSleepsUntil = (await dbNow(sql)) + 60_000;
    const dueAt = (await dbNow(sql)) + 2000;
    const response = await fetch(`${a.url}/trpc/jobs.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRETS.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "created-on-a", jobType: "noop", runAt: new Date(dueAt).toISOString() }),
    });
    expect(response.status).toBe(200);
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);

    const ran = await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_job_runs`)[0].n > 0, 40_000, 20);
    expect(ran).toBe(true);
    const [run] = await sql`SELECT runner, name FROM cron_job_runs`;
    expect(run).toEqual({ runner: b.runner, name: "created-on-a" });
    expect(await auditViolations(sql)).toEqual({ early: [], stolen: [] });
    const [claim] = await sql`SELECT at FROM claim_audit`;
    // B heard of the job through LISTEN/NOTIFY and armed its timer for it: it ran before B's minute was up.
    expect(claim.at.getTime()).toBeLessThan(bSleepsUntil);
  }, 30_000);
});
