/**
 * Cancel (SPEC §5.3.2): `jobs.cancel` marks the row; the runner holding the lease aborts the run
 * within a second, wherever the request was made, and the run is recorded `cancelled`.
 */
import { describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import type { CronJob, JobContext } from "../../src/jobs/cron-job.ts";
import { HttpJob } from "../../src/jobs/http-job.ts";
import { stateOf } from "../../src/lifecycle/lifecycle.ts";
import type { Runtime } from "../../src/runtime.ts";
import { PgStore } from "../../src/store/pg-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { Store } from "../../src/store/store.ts";
import { backends, describeOn } from "../support/backends.ts";
import { onCleanup } from "../support/db.ts";
import { waitUntil } from "../support/server-process.ts";
import { hangingTarget } from "../support/hanging-target.ts";
import { testRegistry } from "../support/jobs.ts";
import { TEST_ACTOR, testRuntime } from "../support/runtime.ts";

const SIGNING_SECRET = "cancel-test-signing-secret-0123456789";

/** Waits on its signal, and says when it has started (a job "hanging" without a network). */
class WaitJob implements CronJob {
  readonly type = "wait";
  readonly description = "Waits until aborted.";
  readonly started = Promise.withResolvers<void>();
  readonly reasons: unknown[] = [];
  async run({ signal, log }: JobContext) {
    log("waiting");
    this.started.resolve();
    await new Promise<void>((_, reject) => signal.addEventListener("abort", () => {
      this.reasons.push(signal.reason);
      reject(signal.reason);
    }, { once: true }));
  }
}

/** Ignores its abort and never settles, after saying it started. */
class StubbornJob implements CronJob {
  readonly type = "stubborn";
  readonly description = "Never settles.";
  readonly started = Promise.withResolvers<void>();
  run(): Promise<void> {
    this.started.resolve();
    return new Promise(() => {});
  }
}

/** Polls the history until job `id` has a run; answers it and how long that took from `since`. */
async function recordedRun(store: Store, id: number, since: number) {
  const runs = async () => (await store.listRuns({ limit: 5, jobId: id })).items;
  const ok = await waitUntil(async () => (await runs()).length > 0, 10_000, 5);
  const elapsedMs = performance.now() - since;
  expect(ok).toBe(true);
  return { run: (await runs())[0]!, elapsedMs };
}

for (const backend of backends) {
  describeOn(backend, `cancel on ${backend.name}`, () => {
    /** Two runtimes on one database, as two servers (PostgreSQL) or two processes on one file (SQLite). */
    async function twoRuntimes(...jobs: CronJob<any>[]) {
      const { store, databaseUrl } = await backend.open();
      const other: Store = backend.name === "sqlite" ? SqliteStore.open(databaseUrl) : await PgStore.open(databaseUrl, { migrate: false });
      onCleanup(() => other.close());
      const registry = testRegistry(new HttpJob({ signingSecret: SIGNING_SECRET }), ...jobs);
      const runtime = (s: Store, name: string): Runtime => testRuntime(s, { clock: systemClock, registry, runner: { runnerName: name, abortGraceMs: 200 } });
      const a = runtime(store, "a/1");
      const b = runtime(other, "b/1");
      await a.watch();
      await b.watch();
      onCleanup(async () => {
        await a.runner.shutdown(100);
        await b.runner.shutdown(100);
        await a.close().catch(() => {});
        await b.close().catch(() => {});
      });
      return { a, b };
    }

    test("an http job hanging in a real request, cancelled through the other runtime: recorded cancelled within 1 s, lease cleared, job paused", async () => {
      const { a, b } = await twoRuntimes();
      const target = hangingTarget();
      const job = await a.jobs.create({ name: "hook", jobType: "http", runAt: new Date(systemClock.now()).toISOString(), payload: { url: target.url } }, TEST_ACTOR);
      const tick = a.runner.runDueJobs();
      await target.arrived;

      const marked = await b.jobs.cancel(job.id, TEST_ACTOR);
      const since = performance.now();
      expect(marked.cancelRequestedAt).not.toBeNull();
      const { run, elapsedMs } = await recordedRun(b.store, job.id, since);
      expect(elapsedMs).toBeLessThan(1000);
      expect(run).toMatchObject({ status: "cancelled", error: "cancelled", runner: "a/1", attempt: 1 });
      await target.closed;

      const result = await tick;
      expect(result.results).toEqual([expect.objectContaining({ id: job.id, status: "cancelled", error: "cancelled" })]);
      const row = (await b.store.getJob(job.id))!;
      expect(row).toMatchObject({ isActive: false, ended: null, lastError: "cancelled", lockedBy: null, lockedUntil: null, cancelRequestedAt: null, attempts: 0 });
      expect(stateOf(row, systemClock.now())).toBe("paused");
      expect(target.requests()).toBe(1);

      // Paused, not dead: it resumes and runs again (and is not running now, so a cancel is refused).
      await expect(b.jobs.cancel(job.id, TEST_ACTOR)).rejects.toMatchObject({ code: "CONFLICT" });
      expect((await b.jobs.resume(job.id, TEST_ACTOR)).isActive).toBe(true);
    }, 20_000);

    test("a recurring job waiting on its signal: cancelled at once through its own runtime, moved to its next slot, the failure count untouched", async () => {
      const wait = new WaitJob();
      const { a } = await twoRuntimes(wait);
      const start = systemClock.now();
      const job = await a.jobs.create({ name: "waiter", jobType: "wait", intervalMinutes: 5, runAt: new Date(start).toISOString() }, TEST_ACTOR);
      const tick = a.runner.runDueJobs();
      await wait.started.promise;
      expect(stateOf((await a.store.getJob(job.id))!, systemClock.now())).toBe("running");

      await a.jobs.cancel(job.id, TEST_ACTOR);
      const result = await tick;
      expect(result.results).toEqual([expect.objectContaining({ id: job.id, status: "cancelled" })]);
      expect(wait.reasons).toHaveLength(1);
      expect((wait.reasons[0] as Error).name).toBe("CancelledError");
      const row = (await a.store.getJob(job.id))!;
      expect(row).toMatchObject({ isActive: true, ended: null, attempts: 0, lastError: null, lockedBy: null, cancelRequestedAt: null });
      expect(row.nextRunAt!.getTime()).toBe(start + 5 * 60_000);
      const [run] = (await a.store.listRuns({ limit: 5, jobId: job.id })).items;
      expect(run).toMatchObject({ status: "cancelled", error: "cancelled", output: "waiting" });
    }, 20_000);

    test("a job that ignores its abort is still recorded cancelled after the abort grace; nothing claims it before its lease ends", async () => {
      const stubborn = new StubbornJob();
      const { a, b } = await twoRuntimes(stubborn);
      const job = await a.jobs.create({ name: "stubborn", jobType: "stubborn", runAt: new Date(systemClock.now()).toISOString() }, TEST_ACTOR);
      const tick = a.runner.runDueJobs();
      await stubborn.started.promise;
      const claimed = (await a.store.getJob(job.id))!;

      await b.jobs.cancel(job.id, TEST_ACTOR);
      const result = await tick;
      expect(result.results).toEqual([expect.objectContaining({ id: job.id, status: "cancelled" })]);
      const [run] = (await a.store.listRuns({ limit: 5, jobId: job.id })).items;
      expect(run).toMatchObject({ status: "cancelled", error: "cancelled" });
      const row = (await a.store.getJob(job.id))!;
      // The run may still be going: the lease's end is kept, but no run holds the job.
      expect(row).toMatchObject({ isActive: false, lastError: "cancelled", lockedBy: null, cancelRequestedAt: null });
      expect(row.lockedUntil?.getTime()).toBe(claimed.lockedUntil!.getTime());
      expect(stateOf(row, systemClock.now())).toBe("paused");
    }, 20_000);

    test("runNow of a job then cancelled answers the cancelled run", async () => {
      const wait = new WaitJob();
      const { a, b } = await twoRuntimes(wait);
      const job = await a.jobs.create({ name: "run-now", jobType: "wait", runAt: new Date(systemClock.now() + 3_600_000).toISOString() }, TEST_ACTOR);
      const running = a.runner.runNow(job.id, TEST_ACTOR);
      await wait.started.promise;
      await b.jobs.cancel(job.id, TEST_ACTOR);
      expect(await running).toMatchObject({ id: job.id, status: "cancelled", error: "cancelled", output: "waiting" });
    }, 20_000);

    test("cancel of a job that is not running is CONFLICT and changes nothing; of a missing job NOT_FOUND", async () => {
      const { a } = await twoRuntimes();
      const job = await a.jobs.create({ name: "idle", jobType: "noop", intervalMinutes: 5 }, TEST_ACTOR);
      const before = (await a.store.getJob(job.id))!;
      await expect(a.jobs.cancel(job.id, TEST_ACTOR)).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("is not running (it is active)") });
      expect(await a.store.getJob(job.id)).toEqual(before);
      await expect(a.jobs.cancel(999_999, TEST_ACTOR)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });
  });
}

describe("the cancel watch asks the database nothing while no run is in flight", () => {
  test("no cancel query with nothing in flight, one every interval while a run is", async () => {
    const wait = new WaitJob();
    const { store, databaseUrl } = await backends[0]!.open();
    const sqlite = store as SqliteStore;
    let queries = 0;
    const counted = new Proxy(sqlite, {
      get(target, key, receiver) {
        if (key === "cancelRequests") return (ids: number[]) => { queries++; return target.cancelRequests(ids); };
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    void databaseUrl;
    const rt = testRuntime(counted, { clock: systemClock, registry: testRegistry(wait) });
    onCleanup(() => rt.runner.shutdown(100));
    await rt.jobs.create({ name: "idle", jobType: "noop", intervalMinutes: 60, runAt: new Date(systemClock.now() + 3_600_000).toISOString() }, TEST_ACTOR);
    await Bun.sleep(600);
    expect(queries).toBe(0);

    const job = await rt.jobs.create({ name: "waiter", jobType: "wait", runAt: new Date(systemClock.now()).toISOString() }, TEST_ACTOR);
    const tick = rt.runner.runDueJobs();
    await wait.started.promise;
    expect(await waitUntil(() => queries >= 2, 5_000, 10)).toBe(true);
    await rt.jobs.cancel(job.id, TEST_ACTOR);
    await tick;
    const after = queries;
    await Bun.sleep(600);
    expect(queries).toBe(after);
  }, 20_000);
});
