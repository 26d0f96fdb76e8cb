import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { JOB_STATES } from "../../src/lifecycle/lifecycle.ts";
import { backends, describeOn, type BackendCase } from "../support/backends.ts";
import { freshStore, onCleanup, T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { pgClient } from "../support/pg.ts";
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

/** Seed columns a web app writes; `createdAt` in ms. */
interface HandRow { name: string; cron?: string; intervalMinutes?: number; isActive?: boolean; createdAt: number }

/** A connection of its own to the test's database, as a web app writing rows by hand has. */
function handWriter(backend: BackendCase, databaseUrl: string) {
  if (backend.name === "sqlite") {
    const db = new Database(databaseUrl);
    onCleanup(() => db.close());
    return {
      async insert(r: HandRow) {
        db.run("INSERT INTO cron_jobs (name, job_type, cron, interval_minutes, is_active, created_at) VALUES (?, 'noop', ?, ?, ?, ?)",
          [r.name, r.cron ?? null, r.intervalMinutes ?? null, r.isActive === false ? 0 : 1, r.createdAt]);
      },
      async unscheduled() {
        return db.query<{ name: string }, []>("SELECT name FROM cron_jobs WHERE next_run_at IS NULL ORDER BY id").all().map((r) => r.name);
      },
    };
  }
  const sql = pgClient(databaseUrl);
  return {
    async insert(r: HandRow) {
      await sql`INSERT INTO cron_jobs (name, job_type, cron, interval_minutes, is_active, created_at)
        VALUES (${r.name}, 'noop', ${r.cron ?? null}, ${r.intervalMinutes ?? null}, ${r.isActive ?? true}, ${new Date(r.createdAt)})`;
    },
    async unscheduled() {
      return (await sql<{ name: string }[]>`SELECT name FROM cron_jobs WHERE next_run_at IS NULL ORDER BY id`).map((r) => r.name);
    },
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
      const hand = handWriter(backend, databaseUrl);
      await hand.insert({ name: "cron-due", cron: "* * * * *", createdAt: T0 - 10 * 60_000 }); // first match 9 min ago
      await hand.insert({ name: "every-5-due", intervalMinutes: 5, createdAt: T0 - 10 * 60_000 }); // no run_at: due from its creation
      await hand.insert({ name: "cron-later", cron: "0 0 1 1 *", createdAt: T0 - 10 * 60_000 }); // first match next New Year
      await hand.insert({ name: "every-5-paused", intervalMinutes: 5, isActive: false, createdAt: T0 - 10 * 60_000 });
      const all = ["cron-due", "every-5-due", "cron-later", "every-5-paused"];
      expect(await hand.unscheduled()).toEqual(all); // the insert trigger leaves these to a server
      expect(await gauges(app)).toEqual({ due: 2, states: { active: 3, running: 0, paused: 1, dead: 0, finished: 0 } });
      expect(await hand.unscheduled()).toEqual(all); // and reading /metrics derived nothing
    });
  });
}
