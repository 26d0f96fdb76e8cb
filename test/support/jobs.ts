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

export function testRegistry(...extra: CronJob<any>[]): JobRegistry {
  return new JobRegistry([...builtinJobs(), new SleepJob(), new FailJob(), new HangJob(), ...extra]);
}

/** Inserts a job through the store with sensible defaults. */
export function addJob(store: Store, now: number, values: Partial<JobValues> & { name: string }): Promise<CronJobRecord> {
  return store.insertJob({
    jobType: "noop", userId: null, runAt: null, intervalMinutes: null, cron: null, timezone: null, payload: null,
    timeoutSeconds: 60, maxAttempts: 5, isActive: true, nextRunAt: values.runAt ?? null, ...values,
  }, now);
}
