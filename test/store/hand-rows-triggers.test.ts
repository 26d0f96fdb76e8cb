/**
 * The database side of "rows written by hand are first-class" (SPEC §2, migration 0002): the
 * triggers of cron_jobs as another writer (the web application) meets them, and the app's own
 * writes they must leave alone; SQLite's watch of other connections; PostgreSQL's notices.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/logger.ts";
import { assembleRuntime } from "../../src/runtime.ts";
import type { Store } from "../../src/store/store.ts";
import { describeOn, postgresBackend, sqliteBackend, type BackendCase } from "../support/backends.ts";
import { freshStore, onCleanup, T0 } from "../support/db.ts";
import { foreignWriter, type Foreign } from "../support/foreign.ts";
import { GateJob, testRegistry } from "../support/jobs.ts";
import { freshPgStore, pgClient } from "../support/pg.ts";
import { TEST_ACTOR } from "../support/runtime.ts";

async function openForeign(backend: BackendCase): Promise<{ store: Store; foreign: Foreign }> {
  const { store, databaseUrl } = await backend.open();
  return { store, foreign: foreignWriter(backend.name, databaseUrl) };
}

for (const backend of [sqliteBackend, postgresBackend]) {
  describeOn(backend, `triggers of cron_jobs for rows written by hand (${backend.name})`, () => {
    test("counts of due jobs judge cron rows nobody has scheduled yet by their first match, as lists do", async () => {
      const { store, foreign } = await openForeign(backend);
      const created = foreign.time(T0 - 120_000);
      // Every minute, written two minutes ago: its first match has passed. Yearly, written now: ahead.
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, cron, created_at) VALUES ('minutely', 'noop', '* * * * *', ${created})`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, cron, timezone, created_at) VALUES ('minutely-paris', 'noop', '* * * * *', 'Europe/Paris', ${created})`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, cron, created_at) VALUES ('yearly', 'noop', '0 0 1 1 *', ${created})`);
      // A start (run_at) in the past does not make it due: the first match after it is ahead.
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, cron, run_at, created_at) VALUES ('yearly-from', 'noop', '0 0 1 1 *', ${foreign.time(T0 - 60_000)}, ${created})`);
      expect((await store.stats(T0)).due).toBe(2);
      const listed = (await store.listJobs({ limit: 10, dueBefore: new Date(T0) }, T0)).items.map((j) => j.name);
      expect(listed.sort()).toEqual(["minutely", "minutely-paris"]);
    });

    test("an insert with a usable run_at is due at it at once; cron rows and rows without run_at are left to the server", async () => {
      const { foreign } = await openForeign(backend);
      const at = foreign.time(T0 + 3_000);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('once', 'noop', ${at})`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes) VALUES ('every-from', 'noop', ${at}, 5)`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, interval_minutes) VALUES ('every', 'noop', 5)`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, cron) VALUES ('cron', 'noop', '* * * * *')`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, is_active) VALUES ('paused', 'noop', ${at}, false)`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at) VALUES ('given', 'noop', ${at}, ${foreign.time(T0)})`);
      expect(await foreign.nextRunAt("once")).toBe(T0 + 3_000);
      expect(await foreign.nextRunAt("every-from")).toBe(T0 + 3_000);
      expect(await foreign.nextRunAt("every")).toBeNull();
      expect(await foreign.nextRunAt("cron")).toBeNull();
      expect(await foreign.nextRunAt("paused")).toBeNull();
      expect(await foreign.nextRunAt("given")).toBe(T0);
    });

    test("a hand UPDATE of a schedule column clears next_run_at; one that sets next_run_at too, or changes nothing of the schedule, does not", async () => {
      const { foreign } = await openForeign(backend);
      for (const name of ["run-at", "interval", "cron", "timezone", "pause", "with-next", "other"]) {
        await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at) VALUES ('${name}', 'noop', ${foreign.time(T0)}, ${foreign.time(T0)})`);
      }
      await foreign.run(`UPDATE cron_jobs SET run_at = ${foreign.time(T0 + 3_600_000)} WHERE name = 'run-at'`);
      await foreign.run(`UPDATE cron_jobs SET interval_minutes = 5 WHERE name = 'interval'`);
      await foreign.run(`UPDATE cron_jobs SET cron = '0 * * * *' WHERE name = 'cron'`);
      await foreign.run(`UPDATE cron_jobs SET timezone = 'Europe/Paris' WHERE name = 'timezone'`);
      await foreign.run(`UPDATE cron_jobs SET is_active = false WHERE name = 'pause'`);
      await foreign.run(`UPDATE cron_jobs SET run_at = ${foreign.time(T0 + 60_000)}, next_run_at = ${foreign.time(T0 + 60_000)} WHERE name = 'with-next'`);
      await foreign.run(`UPDATE cron_jobs SET timeout_seconds = 5, payload = '{}' WHERE name = 'other'`);
      for (const name of ["run-at", "interval", "cron", "timezone", "pause"]) expect([name, await foreign.nextRunAt(name)]).toEqual([name, null]);
      expect(await foreign.nextRunAt("with-next")).toBe(T0 + 60_000);
      expect(await foreign.nextRunAt("other")).toBe(T0);
    });

    test("the app's own writes keep next_run_at: pause and resume, an update, a run that makes the job dead", async () => {
      const { store, foreign } = await openForeign(backend);
      const clock = new ManualClock(T0);
      const runtime = assembleRuntime(store, testRegistry(), { clock, logger: silentLogger, runner: { runnerName: "test/1" } });
      const every = await runtime.jobs.create({ name: "every", jobType: "noop", intervalMinutes: 10 }, TEST_ACTOR);
      const paused = await runtime.jobs.pause(every.id, TEST_ACTOR);
      expect(paused.nextRunAt?.getTime()).toBe(T0);
      expect(await foreign.nextRunAt("every")).toBe(T0);
      // Resume moves a recurring job whose slot passed to its next one (the app's own rule, SPEC §7).
      const resumed = await runtime.jobs.resume(every.id, TEST_ACTOR);
      expect(resumed.nextRunAt?.getTime()).toBe(T0 + 600_000);
      await runtime.jobs.update(every.id, { timeoutSeconds: 5 }, TEST_ACTOR);
      expect(await foreign.nextRunAt("every")).toBe(T0 + 600_000);
      // The runner's finish of a job it cannot run changes is_active and keeps next_run_at.
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('bad', 'no_such_type', ${foreign.time(T0 - 1)})`);
      await runtime.runner.runDueJobs();
      const bad = (await store.listJobs({ limit: 10, search: "bad" }, T0)).items[0]!;
      expect([bad.isActive, bad.ended, bad.nextRunAt?.getTime()]).toEqual([false, "dead", T0 - 1]);
    });

    test("a hand UPDATE moving run_at later: the next tick derives the new time and nothing runs at the old one", async () => {
      const { store, foreign } = await openForeign(backend);
      const clock = new ManualClock(T0);
      const runtime = assembleRuntime(store, testRegistry(), { clock, logger: silentLogger, runner: { runnerName: "test/1" } });
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('later', 'noop', ${foreign.time(T0 + 1_000)})`);
      expect(await store.nextWakeAt(T0)).toBe(T0 + 1_000);
      await foreign.run(`UPDATE cron_jobs SET run_at = ${foreign.time(T0 + 3_600_000)} WHERE name = 'later'`);
      // Nobody has scheduled it again yet: the timer looks now, and the tick derives it.
      expect(await store.nextWakeAt(T0)).toBe(T0);
      clock.set(T0 + 2_000);
      expect((await runtime.runner.runDueJobs()).claimed).toBe(0);
      expect(await foreign.nextRunAt("later")).toBe(T0 + 3_600_000);
      expect(await store.nextWakeAt(T0 + 2_000)).toBe(T0 + 3_600_000);
    });

    test("a recurring job paused and resumed by hand, or given a new interval, goes on at its next slot: a slot it ran is not run again", async () => {
      const { store, foreign } = await openForeign(backend);
      const clock = new ManualClock(T0);
      const runtime = assembleRuntime(store, testRegistry(), { clock, logger: silentLogger, runner: { runnerName: "test/1" } });
      const [no, yes] = backend.name === "sqlite" ? [0, 1] : ["false", "true"];
      // Every hour from a day ago: due at once, as a new row (SPEC §4).
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes) VALUES ('hourly', 'noop', ${foreign.time(T0 - 86_400_000)}, 60)`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes) VALUES ('retimed', 'noop', ${foreign.time(T0 - 30_000)}, 10)`);
      expect((await runtime.runner.runDueJobs()).succeeded).toBe(2);
      clock.set(T0 + 5_000);
      for (let i = 0; i < 3; i++) {
        await foreign.run(`UPDATE cron_jobs SET is_active = ${no} WHERE name = 'hourly'`);
        await foreign.run(`UPDATE cron_jobs SET is_active = ${yes} WHERE name = 'hourly'`);
      }
      await foreign.run(`UPDATE cron_jobs SET interval_minutes = 1 WHERE name = 'retimed'`);
      expect((await runtime.runner.runDueJobs()).claimed).toBe(0);
      expect(await foreign.nextRunAt("hourly")).toBe(T0 + 3_600_000);
      expect(await foreign.nextRunAt("retimed")).toBe(T0 - 30_000 + 60_000);
      expect((await store.listRuns({ limit: 10 })).items).toHaveLength(2);
    });

    test("a hand UPDATE while the job runs is not undone by the run's end: pause, interval, cron, a one-time job moved later", async () => {
      const { store, foreign } = await openForeign(backend);
      const clock = new ManualClock(T0);
      const gate = new GateJob();
      const runtime = assembleRuntime(store, testRegistry(gate), { clock, logger: silentLogger, runner: { runnerName: "test/1" } });
      const due = foreign.time(T0 - 1_000);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes) VALUES ('paused', 'gate', ${due}, 10), ('faster', 'gate', ${due}, 10)`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('moved', 'gate', ${due}), ('untouched', 'gate', ${due})`);
      await foreign.run(`INSERT INTO cron_jobs (name, job_type, cron, timezone, next_run_at) VALUES ('yearly', 'gate', '0 0 1 1 *', 'UTC', ${due})`);
      const tick = runtime.runner.runDueJobs();
      for (const name of ["paused", "faster", "moved", "untouched", "yearly"]) await gate.started(name);
      await foreign.run(`UPDATE cron_jobs SET is_active = ${backend.name === "sqlite" ? 0 : "false"} WHERE name = 'paused'`);
      await foreign.run(`UPDATE cron_jobs SET interval_minutes = 1 WHERE name = 'faster'`);
      await foreign.run(`UPDATE cron_jobs SET run_at = ${foreign.time(T0 + 3_600_000)} WHERE name = 'moved'`);
      await foreign.run(`UPDATE cron_jobs SET cron = '*/5 * * * *' WHERE name = 'yearly'`);
      gate.open();
      expect(await tick).toMatchObject({ claimed: 5, succeeded: 5 });
      const job = async (name: string) => (await store.listJobs({ limit: 1, search: name }, T0)).items[0];
      // Every run is recorded and its lease released; the schedules written meanwhile stay.
      expect((await store.listRuns({ limit: 10 })).items.map((r) => r.status)).toEqual(Array(5).fill("succeeded"));
      const paused = await job("paused");
      expect([paused?.isActive, paused?.ended, paused?.nextRunAt, paused?.lockedBy, paused?.lastRunAt?.getTime()]).toEqual([false, null, null, null, T0]);
      expect(await job("untouched")).toBeUndefined(); // a one-time job that succeeded is deleted
      const moved = await job("moved");
      expect([moved?.isActive, moved?.attempts, moved?.lockedBy, moved?.runCount]).toEqual([true, 0, null, 1]);
      // The next tick derives the new schedules: nothing runs at the old ones, nor again at once.
      // The interval row, every minute now, goes on at its next slot on the grid of its run_at.
      clock.set(T0 + 1_000);
      expect((await runtime.runner.runDueJobs()).claimed).toBe(0);
      expect(await foreign.nextRunAt("faster")).toBe(T0 - 1_000 + 60_000);
      expect(await foreign.nextRunAt("moved")).toBe(T0 + 3_600_000);
      expect(await foreign.nextRunAt("yearly")).toBe(T0 - (T0 % 300_000) + 300_000);
      expect(await foreign.nextRunAt("paused")).toBeNull();
    });
  });
}

describe("SQLite: the server hears other connections' commits (PRAGMA data_version)", () => {
  test("a commit by another connection calls onChange; the store's own writes do not", async () => {
    const { store, file } = freshStore();
    let calls = 0;
    const stop = await store.watchChanges((() => { calls++; }));
    onCleanup(() => stop());
    await store.insertJob({
      name: "own", jobType: "noop", userId: null, runAt: new Date(T0), intervalMinutes: null, cron: null, timezone: null,
      payload: null, timeoutSeconds: 60, maxAttempts: 5, isActive: true, nextRunAt: new Date(T0),
    }, T0);
    await Bun.sleep(150);
    expect(calls).toBe(0);
    const other = new Database(file);
    onCleanup(() => other.close());
    other.run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('hand', 'noop', ${T0})`);
    for (let i = 0; i < 40 && calls === 0; i++) await Bun.sleep(25);
    expect(calls).toBe(1);
    await stop();
    other.run(`UPDATE cron_jobs SET payload = '{}' WHERE name = 'hand'`);
    await Bun.sleep(150);
    expect(calls).toBe(1);
  });
});

describeOn(postgresBackend, "PostgreSQL: notices of other writers' changes", () => {
  /** Counts the trigger's notices on a connection of its own until `end` is heard. */
  async function countNotices(url: string, act: () => Promise<void>): Promise<number> {
    const listener = pgClient(url, 1);
    const notices: string[] = [];
    let ended!: () => void;
    const end = new Promise<void>((resolve) => { ended = resolve; });
    const subscription = await listener.listen("cronjobs_changed", (payload: string) => {
      if (payload === "test-end") ended();
      else notices.push(payload);
    });
    await act();
    // Notices are delivered in commit order: once this one is heard, every earlier one was.
    await listener`SELECT pg_notify('cronjobs_changed', 'test-end')`;
    await end;
    await subscription.unlisten();
    return notices.filter((payload) => payload === "cron_jobs").length;
  }

  test("a 100,000-row insert by another writer sends one notice; an update of many rows, one", async () => {
    const { url } = await freshPgStore();
    const web = pgClient(url);
    const notices = await countNotices(url, async () => {
      await web`INSERT INTO cron_jobs (name, job_type, run_at) SELECT 'bulk-' || i, 'noop', now() + interval '1 hour' FROM generate_series(1, 100000) AS i`;
      await web`UPDATE cron_jobs SET run_at = run_at + interval '1 minute' WHERE name LIKE 'bulk-1%'`;
    });
    expect(notices).toBe(2);
  });

  test("the app's own writes (creates, claims, finishes of 2,000 jobs) send no trigger notice", async () => {
    const { store, url } = await freshPgStore();
    const web = pgClient(url);
    await web`INSERT INTO cron_jobs (name, job_type, run_at) SELECT 'due-' || i, 'noop', now() - interval '1 minute' FROM generate_series(1, 2000) AS i`;
    const runtime = assembleRuntime(store, testRegistry(), { logger: silentLogger, runner: { runnerName: "test/1" } });
    const notices = await countNotices(url, async () => {
      await runtime.jobs.create({ name: "api", jobType: "noop", intervalMinutes: 5 }, TEST_ACTOR);
      const tick = await runtime.runner.runDueJobs();
      expect(tick.succeeded).toBe(2001);
    });
    expect(notices).toBe(0);
  });
});
