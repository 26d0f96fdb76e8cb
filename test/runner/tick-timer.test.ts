import { Database } from "bun:sqlite";
import { describe, expect, jest, spyOn, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { ManualClock, systemClock } from "../../src/clock.ts";
import { TickTimer } from "../../src/runner/tick-timer.ts";
import { walBacklog } from "../../src/store/sqlite-wal.ts";
import { freshStore, onCleanup, T0, tempDir } from "../support/db.ts";
import type { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { Store } from "../../src/store/store.ts";
import { addJob } from "../support/jobs.ts";
import { TEST_ACTOR, testRuntime } from "../support/runtime.ts";
import { AppError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { waitUntil } from "../support/server-process.ts";

/** Rows of `sql` in the database file alone, as a copy without its write-ahead log reads it. */
function inDatabaseFile<T>(file: string, sql: string): T[] {
  const copy = path.join(tempDir(), "copy.db");
  fs.copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return db.query<T, []>(sql).all();
  } finally {
    db.close();
  }
}
const jobsInDatabaseFile = (file: string) => inDatabaseFile<{ name: string }>(file, "SELECT name FROM cron_jobs ORDER BY id").map((r) => r.name);
const runsInDatabaseFile = (file: string) => inDatabaseFile<{ n: number }>(file, "SELECT count(*) AS n FROM cron_job_runs")[0]!.n;

function startScheduler() {
  const { store } = freshStore();
  const runtime = testRuntime(store, { clock: systemClock, runner: { runnerName: "timer" } });
  const { runner } = runtime;
  const scheduler = new TickTimer(runtime);
  onCleanup(() => scheduler.stop());
  return { store, scheduler, runner, runtime };
}

/**
 * A timer over a fresh SQLite file whose schema is already in the file (for the copies above), on
 * a clock that stays at T0 until a test moves it; not started. `wrap` puts a proxy before the store.
 */
function timerAtT0(options: { logger?: Logger; wrap?: (store: SqliteStore) => Store } = {}) {
  const { store, file } = freshStore();
  store.client.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const clock = new ManualClock(T0);
  const runtime = testRuntime(options.wrap?.(store) ?? store, { clock, logger: options.logger, runner: { runnerName: "timer" } });
  const timer = new TickTimer(runtime);
  onCleanup(() => timer.stop());
  return { store, file, clock, runtime, timer };
}

async function waitForRun(store: ReturnType<typeof freshStore>["store"], jobId: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const runs = (await store.listRuns({ limit: 5, jobId })).items;
    if (runs.length > 0) return runs;
    await Bun.sleep(10);
  }
  return [];
}

describe("the server's own timer", () => {
  test("a job known at start runs as soon as it comes due, not at the next minute", async () => {
    const { store, scheduler } = startScheduler();
    const dueAt = Date.now() + 400;
    const job = await addJob(store, Date.now(), { name: "soon", runAt: new Date(dueAt) });
    scheduler.start();
    const runs = await waitForRun(store, job.id, 5_000);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.startedAt.getTime()).toBeGreaterThanOrEqual(dueAt); // never early
  });

  test("the timer ticks CLAIM_EARLY_MS before a due time: the job is claimed then, and starts when the clock reaches its time, not before", async () => {
    const { store, clock, runtime, timer } = timerAtT0();
    const job = await addJob(store, T0, { name: "to-the-ms", runAt: new Date(T0 + 100) });
    timer.start();
    expect(await waitUntil(() => runtime.runner.metrics.ticks >= 1, 5_000, 5)).toBe(true);
    // The timer has fired (it was set for 75 ms), but this clock has not moved: 100 ms are left,
    // more than CLAIM_EARLY_MS, so it looks again, as after a change; no tick, no claim.
    await Bun.sleep(300);
    expect(runtime.runner.metrics.ticks).toBe(1);
    expect((await store.getJob(job.id))!.lockedBy).toBeNull();
    // 20 ms before the due time the tick claims the job and holds it until the clock reaches it.
    clock.set(T0 + 80);
    expect(await waitUntil(async () => (await store.getJob(job.id))!.lockedBy !== null, 2_000, 5)).toBe(true);
    clock.set(T0 + 99);
    await Bun.sleep(100);
    expect((await store.listRuns({ limit: 5 })).items).toEqual([]);
    clock.set(T0 + 100);
    const runs = await waitForRun(store, job.id, 2_000);
    expect(runs.map((r) => r.startedAt.getTime())).toEqual([T0 + 100]);
    expect(await waitUntil(() => runtime.runner.metrics.ticks === 2, 2_000, 5)).toBe(true);
  });

  test("a clock that moved back while the timer slept: it looks again, and still ticks within the minute (fake timers)", async () => {
    const { store, clock, runtime, timer } = timerAtT0();
    await addJob(store, T0, { name: "in-30-s", runAt: new Date(T0 + 30_000) });
    jest.useFakeTimers();
    onCleanup(() => { jest.useRealTimers(); });
    timer.start();
    const settle = async () => { for (let i = 0; i < 50; i++) await Promise.resolve(); };
    await settle();
    expect(runtime.runner.metrics.ticks).toBe(1);
    clock.set(T0 - 600_000); // ten minutes back, as a database clock re-read or a stepped system clock may
    jest.advanceTimersByTime(30_000);
    await settle();
    expect(runtime.runner.metrics.ticks).toBe(1); // the job is 10.5 minutes away now: no tick for it
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(runtime.runner.metrics.ticks).toBe(2); // the minute's tick
    expect((await store.listRuns({ limit: 5 })).items).toEqual([]);
  });

  test("shortly before a due time the timer folds a long write-ahead log into the database file (SQLite), and does not tick early for it", async () => {
    const { store, file, clock, runtime, timer } = timerAtT0();
    // 100 jobs created one by one, as the API does: a few hundred frames of log, below SQLite's own mark of 1,000.
    for (let i = 0; i < 99; i++) await addJob(store, T0, { name: `later-${i}`, runAt: new Date(T0 + 3_600_000) });
    const job = await addJob(store, T0, { name: "due-soon", runAt: new Date(T0 + 200) });
    expect(walBacklog(file)).toBeGreaterThanOrEqual(256);
    expect(walBacklog(file)).toBeLessThan(1_000);
    expect(jobsInDatabaseFile(file)).toEqual([]);
    timer.start();
    // The prepare timer is set for 150 ms (PREPARE_MS before the due time); this clock stays at T0.
    expect(await waitUntil(() => jobsInDatabaseFile(file).length === 100, 5_000, 10)).toBe(true);
    expect(walBacklog(file)).toBe(0);
    expect(runtime.runner.metrics.ticks).toBe(1); // only the one at start
    clock.set(T0 + 200);
    expect((await waitForRun(store, job.id, 2_000)).map((r) => r.startedAt.getTime())).toEqual([T0 + 200]);
  });

  test("after a tick that ran jobs, the timer folds the whole write-ahead log into the database file, the next due time being 200 ms away (SQLite)", async () => {
    const { store, file, clock, runtime, timer } = timerAtT0();
    for (const name of ["a", "b", "c"]) await addJob(store, T0, { name, runAt: new Date(T0 - 1_000) });
    await addJob(store, T0, { name: "next", runAt: new Date(T0 + 200) });
    timer.start();
    // Three runs are a few frames of log, far below SQLite's own checkpoint at 1,000 and the
    // mark for a log written otherwise: only the tick's runs make the timer fold it all in, once
    // the tick is over, since "next" is not due within 50 ms (this clock stays at T0).
    expect(await waitUntil(() => runsInDatabaseFile(file) === 3, 5_000, 10)).toBe(true);
    expect(walBacklog(file)).toBe(0);
    expect(jobsInDatabaseFile(file)).toEqual(["next"]); // the one-time jobs that ran are deleted
    expect(runtime.runner.metrics.ticks).toBe(1);
  });

  test("no checkpoint stands between a tick and a due time less than 50 ms after it: the log waits for a later one", async () => {
    const { store, file, clock, runtime, timer } = timerAtT0();
    for (const name of ["a", "b", "c"]) await addJob(store, T0, { name, runAt: new Date(T0 - 1_000) });
    await addJob(store, T0, { name: "right-after", runAt: new Date(T0 + 20) });
    const asked = spyOn(store, "checkpoint");
    onCleanup(() => asked.mockRestore());
    timer.start();
    expect(await waitUntil(() => runtime.runner.metrics.ticks >= 1, 5_000, 5)).toBe(true);
    await Bun.sleep(300); // this clock stays 20 ms before "right-after": the timer keeps looking, and never checkpoints
    expect(asked).not.toHaveBeenCalled();
    expect(runsInDatabaseFile(file)).toBe(0);
    clock.set(T0 + 20);
    // That tick over, nothing is due within the minute: now the whole log goes in, its runs and the others'.
    expect(await waitUntil(() => runsInDatabaseFile(file) === 4, 5_000, 10)).toBe(true);
    expect(asked.mock.calls).toEqual([[1]]);
  });

  test("a short write-ahead log is left alone before a due time: starting the log over costs the next write a sync", async () => {
    const { store, file, clock, runtime, timer } = timerAtT0();
    const job = await addJob(store, T0, { name: "due-soon", runAt: new Date(T0 + 200) });
    const asked = spyOn(store, "checkpoint");
    onCleanup(() => asked.mockRestore());
    timer.start();
    expect(await waitUntil(() => asked.mock.calls.length > 0, 5_000, 10)).toBe(true);
    expect(jobsInDatabaseFile(file)).toEqual([]);
    expect(walBacklog(file)).toBeGreaterThan(0);
    clock.set(T0 + 200);
    expect((await waitForRun(store, job.id, 2_000)).map((r) => r.startedAt.getTime())).toEqual([T0 + 200]);
  });

  test("a checkpoint that fails is logged, and the job still starts at its due time", async () => {
    const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger: Logger = { info() {}, error() {}, warn: (msg, fields) => warnings.push({ msg, fields }) };
    const failing = (store: SqliteStore) => new Proxy(store, {
      get(target, key) {
        if (key === "checkpoint") return async () => { throw new AppError("UNAVAILABLE", "the database is locked"); };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { store, clock, timer } = timerAtT0({ logger, wrap: failing });
    const job = await addJob(store, T0, { name: "runs-anyway", runAt: new Date(T0 + 200) });
    timer.start();
    expect(await waitUntil(() => warnings.length > 0, 5_000, 10)).toBe(true);
    expect(warnings).toEqual([{ msg: "cannot checkpoint the write-ahead log", fields: { error: "the database is locked" } }]);
    clock.set(T0 + 200);
    expect((await waitForRun(store, job.id, 2_000)).map((r) => [r.name, r.status])).toEqual([["runs-anyway", "succeeded"]]);
  });

  test("poke() re-arms the timer for a job added while it sleeps", async () => {
    const { store, scheduler, runtime } = startScheduler();
    scheduler.start();
    // The first tick found nothing: the timer now sleeps up to a minute.
    expect(await waitUntil(() => runtime.runner.metrics.ticks >= 1, 10_000, 5)).toBe(true);
    const dueAt = Date.now() + 300;
    const job = await addJob(store, Date.now(), { name: "added-later", runAt: new Date(dueAt) });
    runtime.changes.publish();
    const runs = await waitForRun(store, job.id, 5_000);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.startedAt.getTime()).toBeGreaterThanOrEqual(dueAt);
  });

  test("a due job leased by another process does not make the timer spin", async () => {
    const { store, scheduler, runner } = startScheduler();
    const job = await addJob(store, Date.now(), { name: "held", runAt: new Date(Date.now() - 1000), timeoutSeconds: 1 });
    await store.claimDue({ runId: "elsewhere", now: Date.now(), limit: 10, leaseMarginMs: 500 });
    scheduler.start();
    // The lease ends 1.5 s from now: the timer wakes then, takes the job over, and runs it once.
    const runs = await waitForRun(store, job.id, 5_000);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.runner).toBe("timer");
    expect(runner.metrics.ticks).toBeLessThanOrEqual(3); // the first, the one at lease end, maybe one more
  });

  test("a lease whose end is text (written by hand) is no lease: the timer does not spin and the job runs once", async () => {
    const { store, scheduler, runner } = startScheduler();
    store.client.run(`INSERT INTO cron_jobs (name, job_type, run_at, locked_until, locked_by) VALUES ('text-lock', 'noop', ${Date.now() - 1_000}, 'soon', 'ghost')`);
    scheduler.start();
    await Bun.sleep(500);
    // It spun at ~700 ticks/s (a NaN wake time became a 1 ms timer) and the job never ran.
    expect(runner.metrics.ticks).toBeLessThanOrEqual(3);
    const runs = (await store.listRuns({ limit: 5 })).items;
    expect(runs.map((r) => [r.name, r.status])).toEqual([["text-lock", "succeeded"]]);
    expect(store.client.query("SELECT 1 FROM cron_jobs WHERE name = 'text-lock'").get()).toBeNull();
  });

  test("a wake time that is not a number waits the full minute, never a 1 ms timer", async () => {
    const { store } = freshStore();
    // Whatever odd value a store may yet read from the table: the timer must not spin on it.
    const odd = new Proxy(store, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (key === "nextWakeAt") return async () => Number.NaN;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const runtime = testRuntime(odd, { clock: systemClock, runner: { runnerName: "timer" } });
    const timer = new TickTimer(runtime);
    onCleanup(() => timer.stop());
    timer.start();
    await Bun.sleep(300);
    expect(runtime.runner.metrics.ticks).toBe(1);
  });

  test("a tick that fails is retried after 5 s, not before and not a minute later (fake timers, no waiting)", async () => {
    const { store } = freshStore();
    // The database is down for the first tick: the store's claim throws, as a dead connection's would.
    const down = { now: true };
    let storeCalls = 0; // counted as they are made: a tick reaches the store at once
    const flaky = new Proxy(store, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        storeCalls++;
        if (key === "claimDue" && down.now) return async () => { throw new AppError("UNAVAILABLE", "the database is unavailable"); };
        return value.bind(target);
      },
    });
    const events: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const heard = new Map<string, PromiseWithResolvers<void>>();
    const when = (msg: string) => { if (!heard.has(msg)) heard.set(msg, Promise.withResolvers<void>()); return heard.get(msg)!.promise; };
    const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
      events.push({ level, msg, fields });
      when(msg);
      heard.get(msg)!.resolve();
    };
    const logger: Logger = { info: log("info"), warn: log("warn"), error: log("error") };
    const runtime = testRuntime(flaky, { logger, runner: { runnerName: "timer" } });
    const job = await addJob(store, T0, { name: "waiting", runAt: new Date(T0 - 1000) });

    jest.useFakeTimers();
    onCleanup(() => { jest.useRealTimers(); });
    const timer = new TickTimer(runtime);
    onCleanup(() => timer.stop());
    timer.start();
    await when("tick failed");
    expect(events.filter((e) => e.msg === "tick failed")).toEqual([{ level: "error", msg: "tick failed", fields: { error: "the database is unavailable" } }]);
    down.now = false;
    const callsAfterFailure = storeCalls;

    jest.advanceTimersByTime(4_999);
    expect(storeCalls).toBe(callsAfterFailure); // no retry yet: no tick has touched the store
    expect(events.map((e) => e.msg)).toEqual(["tick failed"]);
    expect((await store.listRuns({ limit: 5 })).items).toEqual([]);

    jest.advanceTimersByTime(1); // 5 s after the failure
    await when("tick");
    expect(events.map((e) => e.msg)).toEqual(["tick failed", "tick"]);
    expect(events[1]!.fields).toMatchObject({ claimed: 1, succeeded: 1 });
    const runs = (await store.listRuns({ limit: 5 })).items;
    expect(runs.map((r) => [r.jobId, r.status, r.runner])).toEqual([[job.id, "succeeded", "timer"]]);
  });

  test("while all jobs are paused the timer does not spin on a due job; resume all starts it at once", async () => {
    const { store, scheduler, runtime } = startScheduler();
    const job = await addJob(store, Date.now(), { name: "held-by-pause", runAt: new Date(Date.now() - 1000) });
    await runtime.jobs.pauseAll(TEST_ACTOR);
    scheduler.start();
    expect(await waitUntil(() => runtime.runner.metrics.ticks >= 1, 10_000, 5)).toBe(true);
    await Bun.sleep(300);
    // Paused: one tick at start (and none per due check after it), nothing run.
    expect(runtime.runner.metrics.ticks).toBe(1);
    expect((await store.listRuns({ limit: 5, jobId: job.id })).items).toEqual([]);
    await runtime.jobs.resumeAll(TEST_ACTOR);
    // The paused timer sleeps a minute; the resume's change re-arms it, so the run comes within the wait.
    const runs = await waitForRun(store, job.id, 3_000);
    expect(runs).toHaveLength(1);
  });
});
