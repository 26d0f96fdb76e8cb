import { describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { TickTimer } from "../../src/runner/tick-timer.ts";
import { freshStore, onCleanup } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { testRuntime } from "../support/runtime.ts";

function startScheduler() {
  const { store } = freshStore();
  const runtime = testRuntime(store, { clock: systemClock, runner: { runnerName: "timer" } });
  const { runner } = runtime;
  const scheduler = new TickTimer(runtime);
  onCleanup(() => scheduler.stop());
  return { store, scheduler, runner, runtime };
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

  test("poke() re-arms the timer for a job added while it sleeps", async () => {
    const { store, scheduler, runtime } = startScheduler();
    scheduler.start();
    await Bun.sleep(100); // the first tick found nothing: the timer now sleeps up to a minute
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
});
