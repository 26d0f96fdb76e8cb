import { expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { jobView } from "../../src/jobs/job-view.ts";
import type { Runtime } from "../../src/runtime.ts";
import { PgStore } from "../../src/store/pg-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { Store } from "../../src/store/store.ts";
import { backends, describeOn, type BackendCase } from "../support/backends.ts";
import { onCleanup, T0 } from "../support/db.ts";
import { RecordJob, testRegistry } from "../support/jobs.ts";
import { TEST_ACTOR, testRuntime } from "../support/runtime.ts";
import { scheduleOf } from "../../src/schedule/schedule.ts";
import { plannedAt } from "../../src/schedule/slots.ts";

const MIN = 60_000;

/** Reopens the database at `url` as a new process would (store and runtime built again). */
async function reopen(backend: BackendCase, url: string): Promise<Store> {
  if (backend.name === "sqlite") {
    const store = SqliteStore.open(url);
    onCleanup(() => store.close());
    return store;
  }
  const store = await PgStore.open(url, { poolSize: 2 });
  onCleanup(() => store.close());
  return store;
}

for (const backend of backends) {
  describeOn(backend, `schedule policies on ${backend.name}`, () => {
    async function setup(store?: Store, clock = new ManualClock(T0)) {
      const opened = store ? { store, databaseUrl: "" } : await backend.open();
      const record = new RecordJob();
      const runtime = testRuntime(opened.store, { clock, registry: testRegistry(record) });
      return { runtime, store: opened.store, url: opened.databaseUrl, clock, record };
    }
    const runsOf = async (runtime: Runtime, jobId: number) =>
      (await runtime.store.listRuns({ limit: 500, jobId })).items.sort((a, b) => a.id - b.id);

    for (const [catchUp, runs] of [["all", 4], ["once", 1], ["skip", 0]] as const) {
      test(`catch-up ${catchUp}: an interval-1 job whose next run is 3.5 minutes past runs ${runs} time(s)`, async () => {
        const { runtime, clock, record } = await setup();
        const job = await runtime.jobs.create({ name: `catch-${catchUp}`, jobType: "record", intervalMinutes: 1, catchUp }, TEST_ACTOR);
        expect(job.nextRunAt?.getTime()).toBe(T0);
        clock.set(T0 + 3.5 * MIN);
        const tick = await runtime.runner.runDueJobs();
        expect(record.seen).toHaveLength(runs);
        const history = await runsOf(runtime, job.id);
        const ran = history.filter((r) => r.status === "succeeded");
        expect(ran).toHaveLength(runs);
        // Oldest first, one per slot, consecutive.
        expect(ran.map((r) => r.scheduledFor!.getTime())).toEqual(Array.from({ length: runs }, (_, i) => T0 + i * MIN));
        if (catchUp === "skip") {
          expect(history.map((r) => r.status)).toEqual(["skipped"]);
          expect(history[0]!.error).toContain("catch_up = skip");
          expect(tick.results.map((r) => r.status)).toEqual(["skipped"]);
        }
        const row = (await runtime.store.getJob(job.id))!;
        expect(row.nextRunAt!.getTime()).toBe(T0 + 4 * MIN);
        expect(row.nextRunAt!.getTime()).toBeGreaterThan(clock.now());
        expect((await runtime.runner.runDueJobs()).claimed).toBe(0);
      });
    }

    test("rows written by hand: catch_up = 'all' runs each missed slot; jitter applies to a row without next_run_at", async () => {
      const { runtime, store, clock, record } = await setup();
      const insert = async (name: string, cols: string, values: (string | number | null)[]) => {
        if (store instanceof SqliteStore) {
          store.client.run(`INSERT INTO cron_jobs (name, job_type, ${cols}) VALUES (?, 'record', ${values.map(() => "?").join(", ")})`, [name, ...values]);
        } else {
          const params = values.map((_, i) => `$${i + 2}`).join(", ");
          await (store as PgStore).client.unsafe(`INSERT INTO cron_jobs (name, job_type, ${cols}) VALUES ($1, 'record', ${params})`, [name, ...values]);
        }
      };
      const time = (ms: number) => (store instanceof SqliteStore ? ms : new Date(ms).toISOString());
      await insert("hand-all", "interval_minutes, next_run_at, catch_up", [1, time(T0 - 3.5 * MIN), "all"]);
      await insert("hand-jitter", "cron, jitter_seconds", ["0 13 * * *", 600]);
      await runtime.runner.runDueJobs();
      const all = (await store.findJob("hand-all", null))!;
      expect((await runsOf(runtime, all.id)).map((r) => r.scheduledFor!.getTime())).toEqual([T0 - 3.5 * MIN, T0 - 2.5 * MIN, T0 - 1.5 * MIN, T0 - 0.5 * MIN]);
      expect(record.seen).toEqual([all.id, all.id, all.id, all.id]);
      expect(all.nextRunAt!.getTime()).toBe(T0 + 0.5 * MIN);
      const jittered = (await store.findJob("hand-jitter", null))!;
      const one = Date.parse("2026-01-05T13:00:00Z");
      expect(jittered.nextRunAt!.getTime()).toBe(plannedAt(scheduleOf(jittered), jittered.id, 600, one));
      expect(jittered.nextRunAt!.getTime()).toBeGreaterThanOrEqual(one);
      expect(jittered.nextRunAt!.getTime()).toBeLessThan(one + 600_000);
      expect(clock.now()).toBe(T0);
    });

    test("a start deadline of 60 s with a slot 5 minutes past: a skipped run with how late, the next slot set", async () => {
      const { runtime, clock, record } = await setup();
      const job = await runtime.jobs.create({ name: "late", jobType: "record", intervalMinutes: 10, startDeadlineSeconds: 60 }, TEST_ACTOR);
      clock.set(T0 + 5 * MIN);
      const tick = await runtime.runner.runDueJobs();
      expect(tick.results).toMatchObject([{ id: job.id, status: "skipped", error: "missed its start deadline by 240 s" }]);
      expect(record.seen).toEqual([]);
      const [run] = await runsOf(runtime, job.id);
      expect(run).toMatchObject({ status: "skipped", error: "missed its start deadline by 240 s" });
      expect(run!.scheduledFor!.getTime()).toBe(T0);
      const row = (await runtime.store.getJob(job.id))!;
      expect(row).toMatchObject({ isActive: true, ended: null, attempts: 0, lastRunAt: null });
      expect(row.nextRunAt!.getTime()).toBe(T0 + 10 * MIN);
    });

    test("a one-time job that misses its start deadline is dead, with the reason", async () => {
      const { runtime, clock, record } = await setup();
      const job = await runtime.jobs.create({ name: "once-late", jobType: "record", runAt: new Date(T0 + MIN), startDeadlineSeconds: 30 }, TEST_ACTOR);
      clock.set(T0 + 3 * MIN);
      await runtime.runner.runDueJobs();
      expect(record.seen).toEqual([]);
      const row = (await runtime.store.getJob(job.id))!;
      expect(jobView(row, clock.now())).toMatchObject({ state: "dead", lastError: "missed its start deadline by 90 s" });
    });

    test("100 jobs `0 9 * * *` with 600 s of jitter: every next run in [09:00, 09:10), not all equal, unchanged after a restart", async () => {
      const { runtime, store, url, clock } = await setup();
      const nine = Date.parse("2026-01-06T09:00:00Z");
      for (let i = 0; i < 100; i++) await runtime.jobs.create({ name: `daily-${i}`, jobType: "noop", cron: "0 9 * * *", jitterSeconds: 600 }, TEST_ACTOR);
      const read = async (s: Store) => new Map((await s.listJobs({ limit: 500 }, clock.now())).items.map((j) => [j.id, j.nextRunAt!.getTime()]));
      const before = await read(store);
      expect(before.size).toBe(100);
      for (const at of before.values()) {
        expect(at).toBeGreaterThanOrEqual(nine);
        expect(at).toBeLessThan(nine + 600_000);
      }
      expect(new Set(before.values()).size).toBeGreaterThan(50);

      // A restart: the database opened again by a new runtime, which ticks; nothing moves.
      const reopened = await reopen(backend, url);
      const again = await setup(reopened, new ManualClock(T0 + MIN));
      await again.runtime.runner.runDueJobs();
      expect(await read(reopened)).toEqual(before);

      // Each job runs at its own time, never before 09:00, and its next day's slot is jittered afresh.
      clock.set(nine + 600_000);
      const tick = await runtime.runner.runDueJobs();
      expect(tick.claimed).toBe(100);
      const runs = (await store.listRuns({ limit: 500 })).items;
      for (const run of runs) expect(run.scheduledFor!.getTime()).toBe(before.get(run.jobId)!);
      const after = await read(store);
      for (const at of after.values()) {
        expect(at).toBeGreaterThanOrEqual(nine + 86_400_000);
        expect(at).toBeLessThan(nine + 86_400_000 + 600_000);
      }
    });

    test("max_runs = 2: finished after two runs, kept, and never runs again", async () => {
      const { runtime, clock, record } = await setup();
      const job = await runtime.jobs.create({ name: "twice", jobType: "record", intervalMinutes: 1, maxRuns: 2 }, TEST_ACTOR);
      await runtime.runner.runDueJobs();
      clock.advance(MIN);
      await runtime.runner.runDueJobs();
      const row = (await runtime.store.getJob(job.id))!;
      expect(jobView(row, clock.now())).toMatchObject({ state: "finished", isActive: false, runCount: 2, maxRuns: 2, nextRunAt: null });
      clock.advance(10 * MIN);
      expect((await runtime.runner.runDueJobs()).claimed).toBe(0);
      expect(record.seen).toHaveLength(2);
      expect((await runtime.store.listJobs({ limit: 10, state: "finished" }, clock.now())).items.map((j) => j.id)).toEqual([job.id]);
      await expect(runtime.jobs.resume(job.id, TEST_ACTOR)).rejects.toThrow(/finished \(max_runs \(2\) reached\)/);
    });

    test("ends_at: no run at or after it; the job is finished", async () => {
      const { runtime, clock, record } = await setup();
      const endsAt = new Date(T0 + 2.5 * MIN);
      const job = await runtime.jobs.create({ name: "until", jobType: "record", intervalMinutes: 1, endsAt }, TEST_ACTOR);
      for (let i = 0; i < 6; i++) {
        await runtime.runner.runDueJobs();
        clock.advance(MIN);
      }
      const runs = await runsOf(runtime, job.id);
      expect(runs.map((r) => r.scheduledFor!.getTime())).toEqual([T0, T0 + MIN, T0 + 2 * MIN]);
      for (const run of runs) expect(run.startedAt.getTime()).toBeLessThan(endsAt.getTime());
      expect(record.seen).toHaveLength(3);
      expect(jobView((await runtime.store.getJob(job.id))!, clock.now()).state).toBe("finished");
    });

    test("invalid combinations are refused naming the field, and change nothing", async () => {
      const { runtime, store } = await setup();
      await expect(runtime.jobs.create({ name: "j1", jobType: "noop", intervalMinutes: 5, jitterSeconds: 301 }, TEST_ACTOR)).rejects.toThrow(/jitterSeconds: must not be longer than the interval \(300 s\)/);
      await expect(runtime.jobs.create({ name: "j2", jobType: "noop", cron: "*/5 * * * *", jitterSeconds: 600 }, TEST_ACTOR)).rejects.toThrow(/jitterSeconds: .*shortest gap/);
      await expect(runtime.jobs.create({ name: "j3", jobType: "noop", intervalMinutes: 5, runAt: new Date(T0 + 10 * MIN), endsAt: new Date(T0 + 5 * MIN) }, TEST_ACTOR)).rejects.toThrow(/endsAt: must be after the first run/);
      await expect(runtime.jobs.create({ name: "j4", jobType: "noop", intervalMinutes: 5, maxRuns: 0 }, TEST_ACTOR)).rejects.toThrow(/maxRuns: must be at least 1/);
      await expect(runtime.jobs.create({ name: "j5", jobType: "noop", intervalMinutes: 5, catchUp: "some" as "all" }, TEST_ACTOR)).rejects.toThrow(/catchUp: must be one of once, skip, all/);
      expect((await store.listJobs({ limit: 10 }, T0)).items).toEqual([]);
    });

    test("pause all: a tick with due jobs claims nothing and says so; resume all leaves jobs paused one by one paused; it holds across a restart", async () => {
      const { runtime, url, clock, record } = await setup();
      const a = await runtime.jobs.create({ name: "a", jobType: "record", intervalMinutes: 1 }, TEST_ACTOR);
      const b = await runtime.jobs.create({ name: "b", jobType: "record", intervalMinutes: 1 }, TEST_ACTOR);
      await runtime.jobs.pause(b.id, TEST_ACTOR);
      await runtime.jobs.pauseAll(TEST_ACTOR);
      const tick = await runtime.runner.runDueJobs();
      expect(tick).toMatchObject({ claimed: 0, paused: true, results: [] });
      expect(record.seen).toEqual([]);

      const reopened = await reopen(backend, url);
      const restarted = await setup(reopened, clock);
      expect(await restarted.runtime.jobs.pausedAll()).toBe(true);
      expect(await restarted.runtime.runner.runDueJobs()).toMatchObject({ claimed: 0, paused: true });

      await restarted.runtime.jobs.resumeAll(TEST_ACTOR);
      const resumed = await runtime.runner.runDueJobs();
      expect(resumed).toMatchObject({ claimed: 1, paused: false });
      expect(record.seen).toEqual([a.id]);
      expect((await runtime.store.getJob(b.id))!.isActive).toBe(false);
    });
  });
}

describeOn(backends[1]!, "pause all on PostgreSQL with two servers", () => {
  test("one server pauses all: the other's tick claims nothing; resume on the other lets it run", async () => {
    const { store, databaseUrl } = await backends[1]!.open();
    const second = await PgStore.open(databaseUrl, { poolSize: 2 });
    onCleanup(() => second.close());
    const clock = new ManualClock(T0);
    const one = testRuntime(store, { clock, runner: { runnerName: "one" } });
    const two = testRuntime(second, { clock, runner: { runnerName: "two" } });
    for (let i = 0; i < 5; i++) await one.jobs.create({ name: `due-${i}`, jobType: "noop", intervalMinutes: 1 }, TEST_ACTOR);
    await one.jobs.pauseAll(TEST_ACTOR);
    const [a, b] = await Promise.all([one.runner.runDueJobs(), two.runner.runDueJobs()]);
    expect([a.claimed, b.claimed, a.paused, b.paused]).toEqual([0, 0, true, true]);
    await two.jobs.resumeAll(TEST_ACTOR);
    expect((await one.runner.runDueJobs()).claimed).toBe(5);
  });
});
