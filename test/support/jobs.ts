import { z } from "zod";
import type { CronJob, JobContext } from "../../src/jobs/cron-job.ts";
import { builtinJobs, JobRegistry } from "../../src/jobs/registry.ts";
import type { CronJobRecord, JobValues, Store } from "../../src/store/store.ts";

/** Sleeps `ms` (honouring the abort signal), then succeeds. */
export class SleepJob implements CronJob<{ ms: number }> {
  readonly type = "sleep";
  readonly description = "Sleeps, then succeeds.";
  readonly payloadSchema = z.object({ ms: z.int().min(0) });
  async run({ payload, signal }: JobContext<{ ms: number }>) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, payload.ms);
      signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
    });
  }
}

/** Always fails with the message "boom". */
export class FailJob implements CronJob {
  readonly type = "fail";
  readonly description = "Always fails.";
  async run(): Promise<void> {
    throw new Error("boom");
  }
}

/** Ignores its abort signal and never settles. */
export class HangJob implements CronJob {
  readonly type = "hang";
  readonly description = "Never settles.";
  run(): Promise<void> {
    return new Promise(() => {});
  }
}

/** Records each run's job id in memory (for counting runs in-process). */
export class RecordJob implements CronJob {
  readonly type = "record";
  readonly description = "Records the job id.";
  readonly seen: number[] = [];
  async run({ job }: JobContext) {
    this.seen.push(job.id);
  }
}

/**
 * Runs until the test opens it: `started(name, n)` resolves once the `n`th run (default the
 * first) of the job named `name` has begun; `open()` lets every run, present and future,
 * finish. Honours its abort signal. Lets a test act while a job is known to be running,
 * without sleeping and hoping.
 */
export class GateJob implements CronJob {
  readonly type = "gate";
  readonly description = "Waits until the test opens the gate.";
  private readonly gate = Promise.withResolvers<void>();
  private readonly starts = new Map<string, PromiseWithResolvers<void>[]>();
  private readonly counts = new Map<string, number>();

  started(name: string, n = 1): Promise<void> {
    return this.startOf(name, n).promise;
  }

  open(): void {
    this.gate.resolve();
  }

  async run({ job, signal }: JobContext) {
    const n = (this.counts.get(job.name) ?? 0) + 1;
    this.counts.set(job.name, n);
    this.startOf(job.name, n).resolve();
    await new Promise<void>((resolve, reject) => {
      void this.gate.promise.then(resolve);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }

  private startOf(name: string, n: number): PromiseWithResolvers<void> {
    const list = this.starts.get(name) ?? [];
    this.starts.set(name, list);
    while (list.length < n) list.push(Promise.withResolvers<void>());
    return list[n - 1]!;
  }
}

export function testRegistry(...extra: CronJob<any>[]): JobRegistry {
  return new JobRegistry([...builtinJobs(), ...testJobs(...extra)]);
}

/** The test job types (sleep, fail, hang) and `extra`, to register beside the built-ins. */
export function testJobs(...extra: CronJob<any>[]): CronJob<any>[] {
  return [new SleepJob(), new FailJob(), new HangJob(), ...extra];
}

/** Inserts a job through the store with sensible defaults. */
export function addJob(store: Store, now: number, values: Partial<JobValues> & { name: string }): Promise<CronJobRecord> {
  return store.insertJob({
    jobType: "noop", userId: null, runAt: null, intervalMinutes: null, cron: null, timezone: null, payload: null,
    timeoutSeconds: 60, maxAttempts: 5, isActive: true, nextRunAt: values.runAt ?? null, ...values,
  }, now);
}

/**
 * Runs one instant (`noop`) job through `runner`, so that it has seen runs take no time and
 * claims full batches from then on (`ClaimSize`): for tests about jobs waiting in a claimed batch.
 */
export async function claimFullBatches(store: Store, runner: { runDueJobs(): Promise<{ succeeded: number }> }, now: number): Promise<void> {
  const job = await addJob(store, now, { name: "warm-up", runAt: new Date(now - 60_000) });
  const tick = await runner.runDueJobs();
  if (tick.succeeded !== 1 || (await store.getJob(job.id)) !== undefined) throw new Error("the warm-up job did not run alone");
}
