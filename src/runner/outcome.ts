import { nextSlotAfter, type Schedule } from "../schedule/schedule.ts";
import type { CronJobRecord, FinishChange, RunStatus } from "../store/store.ts";

/** How one run ended, as the runner saw it. */
export interface RunOutcome {
  status: RunStatus;
  error: string | null;
  startedAt: number;
  /** The job cannot run as written (unknown type, bad schedule or payload): retrying cannot help. */
  unusable: boolean;
  /** False when the job ignored its abort and may still be running. */
  settled: boolean;
}

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 3_600_000;

/** Delay before retry number `attempts` of a failed one-time job: 30 s × 2^(attempts−1), at most 1 h. */
export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The row change that ends a run (SPEC §5.3), as a pure function of the claimed row, its
 * schedule (null when unusable), the outcome and now.
 */
export function decideFinish(job: CronJobRecord, schedule: Schedule | null, outcome: RunOutcome, now: number): FinishChange {
  const keepLease = !outcome.settled;
  if (outcome.unusable || schedule === null) {
    return { kind: "update", isActive: false, attempts: job.maxAttempts, lastError: outcome.error, lastRunAt: job.lastRunAt, nextRunAt: job.nextRunAt, keepLease };
  }
  const succeeded = outcome.status === "succeeded";
  if (schedule.kind === "once" && succeeded) return { kind: "delete" };
  const lastRunAt = new Date(outcome.startedAt);
  if (schedule.kind === "once") {
    const retry = job.attempts < job.maxAttempts;
    return {
      kind: "update",
      isActive: retry,
      attempts: job.attempts,
      lastError: outcome.error,
      lastRunAt,
      nextRunAt: retry ? new Date(now + backoffMs(job.attempts)) : job.nextRunAt,
      keepLease,
    };
  }
  const slot = job.nextRunAt?.getTime() ?? now;
  const next = nextSlotAfter(schedule, slot, now);
  return {
    kind: "update",
    // A cron expression with no match left (a fixed date that passed) has nothing more to run.
    isActive: next !== null,
    attempts: succeeded ? 0 : job.attempts,
    lastError: succeeded ? null : outcome.error,
    lastRunAt,
    nextRunAt: next === null ? null : new Date(next),
    keepLease,
  };
}
