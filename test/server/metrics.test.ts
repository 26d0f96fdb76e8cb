import { describe, expect, test } from "bun:test";
import { JOB_STATES } from "../../src/lifecycle/lifecycle.ts";
import { backends, describeOn } from "../support/backends.ts";
import { freshStore, T0 } from "../support/db.ts";
import { foreignWriter } from "../support/foreign.ts";
import { addJob } from "../support/jobs.ts";
import { testApp } from "../support/server.ts";

/** `cronjobs_jobs{state=…}` and `cronjobs_jobs_due` from `GET /metrics`. */
async function gauges(app: ReturnType<typeof testApp>["app"]) {
  const text = await (await app.handle(new Request("http://localhost/metrics"))).text();
  const value = (pattern: RegExp) => Number(text.match(pattern)?.[1]);
  return {
    due: value(/^cronjobs_jobs_due (\d+)$/m),
    states: Object.fromEntries(JOB_STATES.map((s) => [s, value(new RegExp(`^cronjobs_jobs\\{state="${s}"\\} (\\d+)$`, "m"))])),
  };
}

describe("GET /metrics counts jobs by the lifecycle's states", () => {
  test("a dead job whose run ignored its abort (lease not yet expired) is counted dead, not running, and nothing is counted twice", async () => {
    const { store } = freshStore();
    const { app, runner } = testApp(store, { runner: { leaseMarginMs: 60_000 } });
    await addJob(store, T0, { name: "stuck", jobType: "hang", timeoutSeconds: 1, maxAttempts: 1, runAt: new Date(T0) });
    await addJob(store, T0, { name: "waiting", intervalMinutes: 5, nextRunAt: new Date(T0 + 300_000) });
    await addJob(store, T0, { name: "held", intervalMinutes: 5, nextRunAt: new Date(T0 + 300_000), isActive: false });
    const tick = await runner.runDueJobs();
    expect(tick.timedOut).toBe(1);
    const stuck = (await store.listJobs({ limit: 10, search: "stuck" }, T0)).items[0]!;
    expect(stuck.lockedUntil!.getTime()).toBeGreaterThan(T0); // the lease's end is kept…
    expect(stuck.isActive).toBe(false);
    expect(await gauges(app)).toEqual({ due: 0, states: { active: 1, running: 0, paused: 1, dead: 1, finished: 0 } });
  });

  test("a row written by hand without next_run_at counts as due by its run_at before any tick", async () => {
    const { store } = freshStore();
    const { app } = testApp(store);
    store.client.run("INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('by-hand', 'noop', ?)", [T0 - 60_000]);
    store.client.run("INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('later', 'noop', ?)", [T0 + 60_000]);
    expect(await gauges(app)).toEqual({ due: 1, states: { active: 2, running: 0, paused: 0, dead: 0, finished: 0 } });
  });
});

for (const backend of backends) {
  describeOn(backend, `GET /metrics on ${backend.name}: rows nobody has scheduled yet`, () => {
    test("cron and interval rows written by hand (next_run_at NULL, no tick) count as due by their seed columns; paused or not yet due ones do not", async () => {
      const { store, databaseUrl } = await backend.open();
      const { app } = testApp(store);
      const hand = foreignWriter(backend.name, databaseUrl);
      const created = hand.time(T0 - 10 * 60_000);
      await hand.run(`INSERT INTO cron_jobs (name, job_type, cron, interval_minutes, is_active, created_at) VALUES
        ('cron-due', 'noop', '* * * * *', NULL, true, ${created}),
        ('every-5-due', 'noop', NULL, 5, true, ${created}),
        ('cron-later', 'noop', '0 0 1 1 *', NULL, true, ${created}),
        ('every-5-paused', 'noop', NULL, 5, false, ${created})`);
      // cron-due: first match 9 min ago; every-5-due: no run_at, due from its creation;
      // cron-later: first match next New Year; every-5-paused: paused.
      const all = ["cron-due", "every-5-due", "cron-later", "every-5-paused"];
      expect(await hand.unscheduled()).toEqual(all); // the insert trigger leaves these to a server
      expect(await gauges(app)).toEqual({ due: 2, states: { active: 3, running: 0, paused: 1, dead: 0, finished: 0 } });
      expect(await hand.unscheduled()).toEqual(all); // and reading /metrics derived nothing
    });
  });
}
