import { describe, expect, test } from "bun:test";
import { postgresAvailable } from "../support/backends.ts";
import { dbNow, insertJobs, notifyChanged, startInstance, waitFor, type Instance } from "../support/pg-instances.ts";
import { freshPgStore, pgClient } from "../support/pg.ts";
import { waitForTicks } from "../support/server-process.ts";
import { SECRETS } from "../support/server.ts";

const admin = (instance: Instance, procedure: string) => fetch(`${instance.url}/trpc/jobs.${procedure}`, {
  method: "POST", headers: { authorization: `Bearer ${SECRETS.adminToken}`, "content-type": "application/json" }, body: "{}",
});
const tick = async (instance: Instance) => (await fetch(`${instance.url}/api/cron/run`, {
  method: "POST", headers: { authorization: `Bearer ${SECRETS.cronSecret}` },
})).json() as Promise<{ claimed: number; paused: boolean }>;
const health = async (instance: Instance) => (await (await fetch(`${instance.url}/healthz`)).json() as { paused: boolean }).paused;

/** SPEC §5.3.1: pause all holds every server on the database, and survives a restart. */
describe.skipIf(!postgresAvailable)("pause all with two app serve processes on one PostgreSQL database", () => {
  test("paused through one server, neither claims due jobs; a restarted server is still paused; resume through the other runs them", async () => {
    const { url } = await freshPgStore();
    const sql = pgClient(url);
    const a = await startInstance(url);
    const b = await startInstance(url);
    await Promise.all([waitForTicks(a.url), waitForTicks(b.url)]);
    expect((await admin(a, "pauseAll")).status).toBe(200);
    expect([await health(a), await health(b)]).toEqual([true, true]);

    await insertJobs(sql, { prefix: "held", count: 20, dueAt: (await dbNow(sql)) - 1000 });
    await notifyChanged(sql);
    expect(await tick(b)).toMatchObject({ claimed: 0, paused: true });
    expect(await tick(a)).toMatchObject({ claimed: 0, paused: true });

    // A restart of B: it starts paused, its start-up tick claims nothing.
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    const b2 = await startInstance(url);
    await waitForTicks(b2.url);
    expect(await health(b2)).toBe(true);
    expect(await tick(b2)).toMatchObject({ claimed: 0, paused: true });
    expect((await sql`SELECT count(*)::int AS n FROM cron_job_runs`)[0].n).toBe(0);
    expect((await sql`SELECT count(*)::int AS n FROM cron_jobs WHERE locked_by IS NOT NULL`)[0].n).toBe(0);

    // Resumed through the other server: the timers hear it and drain the jobs on their own.
    expect((await admin(b2, "resumeAll")).status).toBe(200);
    expect(await health(a)).toBe(false);
    expect(await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM cron_job_runs`)[0].n === 20, 20_000, 20)).toBe(true);
  }, 60_000);
});
