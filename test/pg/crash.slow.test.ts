import { expect, test } from "bun:test";
import { describeOn, postgresBackend } from "../support/backends.ts";
import { auditViolations, dbNow, insertJobs, installAudit, notifyChanged, startInstance, waitFor } from "../support/pg-instances.ts";
import { freshPgRole, freshPgStore, pgClient } from "../support/pg.ts";

/**
 * Slow (about 35 s, runs with SLOW_TESTS=1): a killed instance's leases end only after
 * timeout_seconds + the 30 s lease margin of `app serve`, and the test waits for that on purpose.
 */
describeOn(postgresBackend, "an app serve instance killed with SIGKILL mid-drain (PostgreSQL)", () => {
  test("the others finish its jobs after its leases end: none lost, none taken while a lease was live, each run once", async () => {
    const { url } = await freshPgStore();
    const sql = pgClient(url);
    await installAudit(sql);
    // The victim connects as a role of its own, so its claims are recognisable in the audit.
    const victim = await startInstance(await freshPgRole(url));
    const survivors = await Promise.all([1, 2].map(() => startInstance(url)));
    const dueAt = (await dbNow(sql)) + 1500;
    await insertJobs(sql, { prefix: "crash", count: 5000, dueAt, timeoutSeconds: 1 });
    await notifyChanged(sql);

    // Freeze the victim the moment it has claimed a batch, then kill it: it dies holding those leases.
    const claimed = await waitFor(async () =>
      (await sql`SELECT 1 FROM claim_audit WHERE by_role <> current_user LIMIT 1`).length > 0, 20_000, 1);
    victim.child.kill("SIGSTOP");
    expect(claimed).toBe(true);
    victim.child.kill("SIGKILL");
    await victim.exited;
    // Its claims (a few first, then full batches) end at slightly different times: the first to end bounds the first takeover.
    const [orphaned] = await sql`SELECT count(*)::int AS n, min(c.locked_until) AS until FROM cron_jobs c
      WHERE c.locked_by IN (SELECT locked_by FROM claim_audit WHERE by_role <> current_user)`;
    expect(orphaned.n).toBeGreaterThan(0);

    const done = await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_jobs`)[0].n === 0, 60_000, 250);
    expect(done).toBe(true);
    await Bun.sleep(300);

    // None lost: every job has a history row, and the rows that were left are gone.
    const [runs] = await sql`SELECT count(*)::int AS runs, count(DISTINCT job_id)::int AS jobs,
      count(*) FILTER (WHERE status <> 'succeeded')::int AS failed FROM cron_job_runs`;
    expect(runs).toEqual({ runs: 5000, jobs: 5000, failed: 0 });
    // The victim's jobs were taken over, and only once their lease had ended (each row: auditViolations' `stolen`).
    const [takeovers] = await sql`SELECT count(*)::int AS n, min(at) AS first FROM claim_audit WHERE prev_locked_by IS NOT NULL`;
    expect(takeovers.n).toBe(orphaned.n);
    expect(takeovers.first.getTime()).toBeGreaterThanOrEqual(orphaned.until.getTime() - 5);
    expect(await auditViolations(sql)).toEqual({ early: [], stolen: [] });
    // Re-run jobs say so: second attempt, by a survivor.
    const reruns = await sql`SELECT DISTINCT runner FROM cron_job_runs WHERE attempt = 2`;
    expect(reruns.length).toBeGreaterThan(0);
    for (const r of reruns) expect(survivors.map((s) => s.runner)).toContain(r.runner);
  }, 90_000);
}, { slow: true });
