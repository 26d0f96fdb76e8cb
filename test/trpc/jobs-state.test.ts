import { describe, expect, test } from "bun:test";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { blockingJob, failingJob, freshCaller, rejects, T0 } from "./support.ts";

const at = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;

/** A job type that fails until told to succeed. */
function flakyJob() {
  const state = { fail: true };
  const job: CronJob = {
    type: "flaky",
    description: "Fails while state.fail.",
    async run() {
      if (state.fail) throw new Error("flaked");
    },
  };
  return { job, state };
}

const ghostRow = { name: "ghost", jobType: "ghost", userId: null, runAt: new Date(T0), intervalMinutes: null, cron: null, timezone: null, payload: null, timeoutSeconds: 60, maxAttempts: 5, isActive: false, nextRunAt: new Date(T0) };

describe("jobs.get", () => {
  test("answers the job, or NOT_FOUND", async () => {
    const { caller } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", runAt: at(T0) });
    expect(await caller.jobs.get({ id: job.id })).toEqual(job);
    await rejects(caller.jobs.get({ id: job.id + 1 }), "NOT_FOUND", `job ${job.id + 1} does not exist`);
    await rejects(caller.jobs.get({ id: 0 }), "BAD_REQUEST", "id: ");
  });
});

describe("jobs.delete", () => {
  test("deletes the job; a second delete is NOT_FOUND", async () => {
    const { caller, store, pokes } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", runAt: at(T0) });
    expect(await caller.jobs.delete({ id: job.id })).toEqual({ id: job.id, wasRunning: false });
    expect(await store.getJob(job.id)).toBeUndefined();
    expect(pokes.count).toBe(2);
    await rejects(caller.jobs.delete({ id: job.id }), "NOT_FOUND");
  });

  test("a running job is deleted at once; its run finishes, is recorded, and does not bring the row back", async () => {
    const blocking = blockingJob();
    const { caller, runner, store } = freshCaller([blocking.job]);
    const job = await caller.jobs.create({ name: "blocking", intervalMinutes: 5 });
    const tick = runner.runDueJobs();
    await blocking.started;
    expect((await caller.jobs.get({ id: job.id })).state).toBe("running");
    expect(await caller.jobs.delete({ id: job.id })).toEqual({ id: job.id, wasRunning: true });
    blocking.release();
    expect((await tick).results).toMatchObject([{ id: job.id, status: "succeeded" }]);
    expect(await store.getJob(job.id)).toBeUndefined();
    expect((await caller.runs.list({ jobId: job.id })).items).toMatchObject([{ jobId: job.id, status: "succeeded" }]);
  });
});

describe("a running job", () => {
  test("cannot be run again, paused, updated or retried until its run finishes (CONFLICT)", async () => {
    const blocking = blockingJob();
    const { caller, runner } = freshCaller([blocking.job]);
    const job = await caller.jobs.create({ name: "blocking", intervalMinutes: 5 });
    const tick = runner.runDueJobs();
    await blocking.started;
    await rejects(caller.jobs.runNow({ id: job.id }), "CONFLICT", "is running now");
    await rejects(caller.jobs.pause({ id: job.id }), "CONFLICT", "is running now");
    await rejects(caller.jobs.update({ id: job.id, timeoutSeconds: 5 }), "CONFLICT", "is running now");
    await rejects(caller.jobs.retry({ id: job.id }), "CONFLICT", "is running now");
    blocking.release();
    await tick;
    expect(await caller.jobs.pause({ id: job.id })).toMatchObject({ state: "paused", isActive: false });
  });
});

describe("jobs.pause and jobs.resume", () => {
  test("a paused job is not run by a tick; resumed, it is", async () => {
    const { caller, runner, pokes } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", runAt: at(T0) });
    expect(await caller.jobs.pause({ id: job.id })).toMatchObject({ isActive: false, state: "paused" });
    expect((await runner.runDueJobs()).claimed).toBe(0);
    expect(await caller.jobs.pause({ id: job.id })).toMatchObject({ state: "paused" });
    const resumed = await caller.jobs.resume({ id: job.id });
    expect(resumed).toMatchObject({ isActive: true, state: "active", nextRunAt: at(T0) });
    expect((await runner.runDueJobs()).succeeded).toBe(1);
    // create, pause, resume, and the tick that ran it: each published once.
    expect(pokes.count).toBe(4);
  });

  test("a resumed recurring job whose slot passed waits for its next slot after now, on its grid", async () => {
    const { caller, clock } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", intervalMinutes: 10 });
    await caller.jobs.pause({ id: job.id });
    clock.advance(25 * MINUTE);
    expect((await caller.jobs.resume({ id: job.id })).nextRunAt).toBe(at(T0 + 30 * MINUTE));
  });

  test("resuming an active job changes nothing; a dead job must be retried; a missing one is NOT_FOUND", async () => {
    const { caller, runner } = freshCaller([failingJob]);
    const active = await caller.jobs.create({ name: "noop", intervalMinutes: 10 });
    expect(await caller.jobs.resume({ id: active.id })).toEqual(active);
    const dead = await caller.jobs.create({ name: "failing", runAt: at(T0), maxAttempts: 1 });
    await runner.runDueJobs();
    expect((await caller.jobs.get({ id: dead.id })).state).toBe("dead");
    await rejects(caller.jobs.resume({ id: dead.id }), "CONFLICT", "is dead");
    await rejects(caller.jobs.resume({ id: 999 }), "NOT_FOUND");
    await rejects(caller.jobs.pause({ id: 999 }), "NOT_FOUND");
  });

  test("a row that cannot run (unknown job type) is not resumed: BAD_REQUEST naming the field", async () => {
    const { caller, store } = freshCaller();
    const row = await store.insertJob(ghostRow, T0);
    await rejects(caller.jobs.resume({ id: row.id }), "BAD_REQUEST", 'jobType: unknown job type "ghost"');
  });
});

describe("jobs.runNow", () => {
  test("runs the job through a claim and answers the run; a one-time job is then gone", async () => {
    const { caller, store, pokes } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", runAt: at(T0 + 60 * MINUTE) });
    const run = await caller.jobs.runNow({ id: job.id });
    expect(run).toMatchObject({ id: job.id, name: "noop", jobType: "noop", status: "succeeded", durationMs: 0 });
    expect(run.error).toBeUndefined();
    expect(await store.getJob(job.id)).toBeUndefined();
    expect((await caller.runs.list({ jobId: job.id })).items).toHaveLength(1);
    expect(pokes.count).toBe(2);
  });

  test("a failing run answers failed with its error; a recurring job keeps its row", async () => {
    const { caller } = freshCaller([failingJob]);
    const job = await caller.jobs.create({ name: "failing", intervalMinutes: 10 });
    expect(await caller.jobs.runNow({ id: job.id })).toMatchObject({ status: "failed", error: "boom" });
    expect(await caller.jobs.get({ id: job.id })).toMatchObject({ attempts: 1, lastError: "boom", nextRunAt: at(T0 + 10 * MINUTE) });
  });

  test("a paused job is a CONFLICT, a missing one NOT_FOUND", async () => {
    const { caller } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", runAt: at(T0), isActive: false });
    await rejects(caller.jobs.runNow({ id: job.id }), "CONFLICT", "paused or dead");
    await rejects(caller.jobs.runNow({ id: 999 }), "NOT_FOUND");
  });
});

describe("jobs.retry", () => {
  test("re-activates a dead job: attempts 0, no last error, due now; the next tick runs it", async () => {
    const flaky = flakyJob();
    const { caller, runner, clock } = freshCaller([flaky.job]);
    const job = await caller.jobs.create({ name: "flaky", runAt: at(T0), maxAttempts: 1 });
    await runner.runDueJobs();
    expect(await caller.jobs.get({ id: job.id })).toMatchObject({ state: "dead", isActive: false, attempts: 1, lastError: "flaked" });
    clock.advance(MINUTE);
    const retried = await caller.jobs.retry({ id: job.id });
    expect(retried).toMatchObject({ state: "active", isActive: true, attempts: 0, lastError: null, nextRunAt: at(T0 + MINUTE) });
    flaky.state.fail = false;
    expect((await runner.runDueJobs()).succeeded).toBe(1);
    await rejects(caller.jobs.get({ id: job.id }), "NOT_FOUND");
  });

  test("a row that still cannot run is BAD_REQUEST naming the field; a missing one NOT_FOUND", async () => {
    const { caller, store } = freshCaller();
    const row = await store.insertJob(ghostRow, T0);
    await rejects(caller.jobs.retry({ id: row.id }), "BAD_REQUEST", "jobType: ");
    await rejects(caller.jobs.retry({ id: 999 }), "NOT_FOUND");
  });
});
