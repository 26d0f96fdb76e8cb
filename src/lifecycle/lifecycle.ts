/**
 * What happens to a job, in one place (SPEC §4–§5): its states, the lease a run holds, when the
 * runner gives up, and the row change that ends a run. Everything else (the stores' SQL, the
 * views, `/metrics`, the watchdog) takes these definitions from here; nothing re-derives them.
 *
 *   active ──claim──▶ running ──finish──▶ active (recurring: next slot; one-time: retry later)
 *                        │                 deleted (one-time success)
 *                        │                 dead    (gave up, or the row cannot run)
 *                        │                 finished (ends_at / max_runs reached)
 *                        ├──not started──▶ skipped (catch-up, start deadline, or past its end): as a finish
 *                        └──process died──▶ due again when the lease ends (a crash, counted)
 *   paused: `is_active` false by hand, by `jobs.pause`, or a one-time run cancelled (`jobs.cancel`);
 *   resume makes it active again.
 */
import type { CronJobRecord, RunStatus } from "../../db/schema/sqlite.ts";
import { firstRunAt, nextSlotAfter, scheduleOf, toMs, type Schedule } from "../schedule/schedule.ts";
import { followingSlot, oldestOfLastSlots, plannedAt, slotOf } from "../schedule/slots.ts";

export const JOB_STATES = ["active", "running", "paused", "dead", "finished"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const RUN_STATUSES = ["succeeded", "failed", "timed_out", "cancelled", "skipped"] as const satisfies readonly RunStatus[];
export type { RunStatus };

/** The columns a job's state depends on. */
export type StateFields = Pick<CronJobRecord, "isActive" | "ended" | "lockedBy" | "lockedUntil">;

/** A live lease held by a run that has not finished. */
export function isRunning(job: Pick<CronJobRecord, "lockedBy" | "lockedUntil">, now: number): boolean {
  return job.lockedBy !== null && (job.lockedUntil?.getTime() ?? 0) > now;
}

/** The one definition of a job's state; `stateSql` is its SQL twin. */
export function stateOf(job: StateFields, now: number): JobState {
  if (isRunning(job, now)) return "running";
  if (job.isActive) return "active";
  return job.ended ?? "paused";
}

// --- due time ----------------------------------------------------------------------------------

/** The columns a job's due time depends on. */
export type DueFields = Pick<CronJobRecord, "id" | "nextRunAt" | "runAt" | "intervalMinutes" | "cron" | "timezone" | "jitterSeconds" | "createdAt">;

/**
 * When a job is due: its `next_run_at`, or for a row nobody has scheduled yet (written by hand)
 * what its seed columns say, as a server will derive it (SPEC §2, §4): `run_at`; an interval row
 * without it, its creation; a cron row, its first match after both. Null: no time (a schedule that
 * cannot run, a value no `Date` holds). Every reader judges due times by this; SQL narrows first
 * with `dueFloor` (lifecycle-sql.ts), which cannot compute a cron match.
 */
export function dueAtOf(job: DueFields): number | null {
  if (job.nextRunAt !== null) return toMs(job.nextRunAt);
  try {
    const schedule = scheduleOf(job);
    const first = firstRunAt(schedule, job.createdAt.getTime());
    return first === null ? null : toMs(plannedRun(job, schedule, first));
  } catch {
    return null;
  }
}

// --- pause all ----------------------------------------------------------------------------------

/**
 * Pause all (SPEC §5.3.1) is one shared setting, not a change to every row: `cron_settings`
 * row `paused` = 'true' makes every tick, on every server, claim nothing; jobs keep their own
 * `is_active`, so the ones paused one by one stay paused after resume all.
 */
export const PAUSE_ALL_SETTING = "paused";

/** Whether the stored value of `PAUSE_ALL_SETTING` means paused (absent: not paused). */
export function isPausedAll(value: string | undefined): boolean {
  return value === "true";
}

// --- leases ------------------------------------------------------------------------------------

/** Timers cannot wait longer (2^31−1 ms); a larger hand-written timeout is clamped to this. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/** The timeout a run gets, in ms: the row's `timeout_seconds`, clamped to what a timer can wait. */
export function timeoutMs(job: Pick<CronJobRecord, "timeoutSeconds">): number {
  return Math.min(Math.max(1, job.timeoutSeconds), MAX_TIMEOUT_SECONDS) * 1000;
}

/** How long a claim holds a job: its timeout plus a margin for recording the run. */
export function leaseMs(job: Pick<CronJobRecord, "timeoutSeconds">, marginMs: number): number {
  return timeoutMs(job) + marginMs;
}

/** `last_error` written at claim when the previous claim's lease ran out unfinished (for people; logic reads `crashes`). */
export const LEASE_EXPIRED_ERROR = "the previous run did not finish before its lease expired (process crashed or was killed)";

// --- giving up and retrying ---------------------------------------------------------------------

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 3_600_000;

/** Delay before retry number `attempts` of a failed one-time job: 30 s × 2^(attempts−1), at most 1 h. */
export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * Whether a claimed job is past its attempts. `attempts` is counted at claim, so a one-time job
 * has `max_attempts` claims in all, crashes included; a recurring job's failures never stop it,
 * only `max_attempts` claims in a row whose process died (`crashes`, counted at claim).
 */
export function givesUp(job: Pick<CronJobRecord, "attempts" | "maxAttempts" | "crashes">, schedule: Schedule): boolean {
  return schedule.kind === "once" ? job.attempts > job.maxAttempts : job.crashes >= job.maxAttempts;
}

// --- finishing a run ----------------------------------------------------------------------------

/** How one run ended, as the runner saw it. */
export interface RunOutcome {
  status: RunStatus;
  error: string | null;
  startedAt: number;
  /** What the run said (`ctx.log`), capped; null when it said nothing. */
  output: string | null;
  /** The job cannot run as written (unknown type, bad schedule or payload): retrying cannot help. */
  unusable: boolean;
  /** False when the job ignored its abort and may still be running. */
  settled: boolean;
  /** Set when the run was not started (`status` is `skipped`): why (`decideStart`). */
  skipped?: SkipReason;
}

// --- schedule policies (SPEC §5.3.1) ------------------------------------------------------------

/** `catch_up = all` runs at most this many missed slots; older ones are skipped. */
export const CATCH_UP_LIMIT = 100;

/** The columns the schedule policies read. */
export type PolicyFields = Pick<CronJobRecord, "id" | "nextRunAt" | "catchUp" | "startDeadlineSeconds" | "jitterSeconds" | "endsAt" | "maxRuns" | "runCount">;

/** Why a claimed run is not started. */
export type SkipReason = "ended" | "catch_up" | "deadline";

export type StartDecision = { start: true } | { start: false; reason: SkipReason; error: string };

const iso = (ms: number) => new Date(ms).toISOString();

/** The slot the row's `next_run_at` stands for (its jitter taken off). */
export function slotOfJob(job: PolicyFields, schedule: Schedule, now: number): number {
  return slotOf(schedule, job.id, job.jitterSeconds, job.nextRunAt?.getTime() ?? now);
}

/** When the run of `slot` is planned (`next_run_at`): the slot moved by the job's jitter, never earlier. */
export function plannedRun(job: Pick<PolicyFields, "id" | "jitterSeconds">, schedule: Schedule, slot: number): number {
  return plannedAt(schedule, job.id, job.jitterSeconds, slot);
}

/** The numeric policy columns, by column and field (checked once per claimed job: no array per call). */
const POLICY_NUMBERS = [
  ["timeout_seconds", "timeoutSeconds"], ["max_attempts", "maxAttempts"], ["jitter_seconds", "jitterSeconds"],
  ["start_deadline_seconds", "startDeadlineSeconds"], ["max_runs", "maxRuns"],
] as const;

/**
 * Why the numbers a run is planned with cannot be used, naming the column, or null. SQLite keeps
 * what is written by hand, and its CHECKs pass text (TEXT sorts after every number): a text
 * `jitter_seconds` made a planned time NaN, so the job silently 'finished'.
 */
export function policyProblem(job: Pick<CronJobRecord, "timeoutSeconds" | "maxAttempts" | "jitterSeconds" | "startDeadlineSeconds" | "maxRuns" | "endsAt">): string | null {
  for (const [column, field] of POLICY_NUMBERS) {
    const value = job[field];
    if (value !== null && !(typeof value === "number" && Number.isFinite(value))) return `${column}: ${JSON.stringify(value)} is not a number`;
  }
  if (job.endsAt !== null && Number.isNaN(job.endsAt.getTime())) return "ends_at: not a time a date can hold";
  return null;
}

/**
 * Why a job has ended, if it has: after `runs` finished runs, with its next run planned at
 * `planned` (null: none). `ends_at`: no run starts at or after it; `max_runs`: runs of any status.
 */
export function endOf(job: Pick<PolicyFields, "endsAt" | "maxRuns">, planned: number | null, runs: number): string | null {
  if (job.maxRuns !== null && runs >= job.maxRuns) return `max_runs (${job.maxRuns}) reached`;
  if (job.endsAt !== null && planned !== null && planned >= job.endsAt.getTime()) return `past its end (ends_at ${job.endsAt.toISOString()})`;
  return null;
}

/**
 * Whether a claimed run starts (SPEC §5.3.1), as a pure function of the claimed row, its
 * schedule and now. A run not started is still finished, as `skipped` with the reason, through
 * the same fenced finish as any run (`decideFinish` with `outcome.skipped`).
 */
export function decideStart(job: PolicyFields, schedule: Schedule, now: number): StartDecision {
  const planned = job.nextRunAt?.getTime() ?? now;
  const end = endOf(job, planned, job.runCount);
  if (end !== null) return { start: false, reason: "ended", error: `not started: ${end}` };
  if (schedule.kind !== "once") {
    const slot = slotOfJob(job, schedule, now);
    if (job.catchUp === "skip") {
      const following = followingSlot(schedule, slot);
      if (following !== null && following <= now) {
        return { start: false, reason: "catch_up", error: `not started: the slots missed since ${iso(slot)} are skipped (catch_up = skip)` };
      }
    } else if (job.catchUp === "all" && oldestOfLastSlots(schedule, slot, now, CATCH_UP_LIMIT) !== null) {
      return { start: false, reason: "catch_up", error: `not started: more than ${CATCH_UP_LIMIT} slots missed since ${iso(slot)}; the last ${CATCH_UP_LIMIT} run (catch_up = all)` };
    }
  }
  if (job.startDeadlineSeconds !== null) {
    const late = now - planned - job.startDeadlineSeconds * 1000;
    if (late > 0) return { start: false, reason: "deadline", error: `missed its start deadline by ${Math.ceil(late / 1000)} s` };
  }
  return { start: true };
}

/**
 * The slot a recurring job runs next after the run of `slot`, by its catch-up policy: `all`
 * takes the very next slot (past or not) so each missed one runs, oldest first; `once` and
 * `skip` the first slot after now.
 */
function nextSlot(job: PolicyFields, schedule: Schedule, slot: number, outcome: RunOutcome, now: number): number | null {
  if (job.catchUp !== "all") return nextSlotAfter(schedule, slot, now);
  if (outcome.skipped === "catch_up") return oldestOfLastSlots(schedule, slot, now, CATCH_UP_LIMIT) ?? followingSlot(schedule, slot);
  // Slots whose deadline has passed too are not each skipped in turn: the next one still in time.
  if (outcome.skipped === "deadline" && job.startDeadlineSeconds !== null) return nextSlotAfter(schedule, slot, now - job.startDeadlineSeconds * 1000);
  return followingSlot(schedule, slot);
}

/** The row change that ends one run, decided here, applied (fenced) by the store. */
export type FinishChange =
  | { kind: "delete" }
  | {
      kind: "update";
      isActive: boolean;
      ended: "dead" | "finished" | null;
      attempts: number;
      lastError: string | null;
      lastRunAt: Date | null;
      nextRunAt: Date | null;
      /**
       * The run may still be going (it ignored its abort): the lease's end is kept so nothing
       * claims the job before it, but the run no longer holds it (`locked_by` cleared), so the
       * job is not shown running and the next claim does not take it for a crash.
       */
      keepLease: boolean;
    };

/**
 * The row change that ends a run (SPEC §5.3), as a pure function of the claimed row, its
 * schedule (null when unusable), the outcome and now.
 */
export function decideFinish(job: CronJobRecord, schedule: Schedule | null, outcome: RunOutcome, now: number): FinishChange {
  const keepLease = !outcome.settled;
  if (outcome.unusable || schedule === null) {
    return { kind: "update", isActive: false, ended: "dead", attempts: job.attempts, lastError: outcome.error, lastRunAt: job.lastRunAt, nextRunAt: job.nextRunAt, keepLease };
  }
  const succeeded = outcome.status === "succeeded";
  // A run not started is neither a success nor a failure: the claim's attempt is undone, the last run and error stay.
  const notStarted = outcome.skipped !== undefined;
  const unchanged = { attempts: Math.max(0, job.attempts - 1), lastError: job.lastError, lastRunAt: job.lastRunAt };
  if (outcome.skipped === "ended") {
    return { kind: "update", isActive: false, ended: "finished", ...unchanged, nextRunAt: null, keepLease };
  }
  if (schedule.kind === "once" && succeeded) return { kind: "delete" };
  const lastRunAt = new Date(outcome.startedAt);
  if (outcome.status === "cancelled") return cancelledChange(job, schedule, lastRunAt, now, keepLease);
  if (schedule.kind === "once") {
    // A one-time job that missed its start deadline cannot be on time again: dead, with the reason.
    const retry = !notStarted && job.attempts < job.maxAttempts;
    return {
      kind: "update",
      isActive: retry,
      ended: retry ? null : "dead",
      attempts: job.attempts,
      lastError: outcome.error,
      lastRunAt: notStarted ? job.lastRunAt : lastRunAt,
      nextRunAt: retry ? new Date(now + backoffMs(job.attempts)) : job.nextRunAt,
      keepLease,
    };
  }
  const slot = slotOfJob(job, schedule, now);
  const next = nextSlot(job, schedule, slot, outcome, now);
  const planned = next === null ? null : plannedRun(job, schedule, next);
  // A cron expression with no match left (a fixed date that passed) has nothing more to run;
  // nor has a job past its `ends_at` or its `max_runs` (this run counted).
  const ended = planned === null || endOf(job, planned, job.runCount + 1) !== null;
  return {
    kind: "update",
    isActive: !ended,
    ended: ended ? "finished" : null,
    ...(notStarted ? unchanged : { attempts: succeeded ? 0 : job.attempts, lastError: succeeded ? null : outcome.error, lastRunAt }),
    nextRunAt: ended ? null : new Date(planned),
    keepLease,
  };
}

/** What `last_error` (and the history row's `error`) says of a run stopped by `jobs.cancel`. */
export const CANCELLED_ERROR = "cancelled";

/**
 * A run stopped by `jobs.cancel` (SPEC §5.3.2) is not a failure: the claim's attempt is given
 * back. A one-time job is paused (kept, resumable) with `last_error = cancelled`; a recurring
 * job moves to its next slot as after any run, its failure count and last error as they were.
 */
function cancelledChange(job: CronJobRecord, schedule: Schedule, lastRunAt: Date, now: number, keepLease: boolean): FinishChange {
  const attempts = Math.max(0, job.attempts - 1);
  if (schedule.kind === "once") {
    return { kind: "update", isActive: false, ended: null, attempts, lastError: CANCELLED_ERROR, lastRunAt, nextRunAt: job.nextRunAt, keepLease };
  }
  // The next slot after now (jitter applied), whatever the catch-up policy; ends_at and max_runs still end it.
  const next = nextSlotAfter(schedule, slotOfJob(job, schedule, now), now);
  const planned = next === null ? null : plannedRun(job, schedule, next);
  const ended = planned === null || endOf(job, planned, job.runCount + 1) !== null;
  return {
    kind: "update", isActive: !ended, ended: ended ? "finished" : null, attempts, lastError: job.lastError,
    lastRunAt, nextRunAt: ended ? null : new Date(planned), keepLease,
  };
}

/** The change that makes a job that can never run dead at once (a bad schedule written by hand). */
export function deadChange(error: string): { isActive: false; ended: "dead"; lastError: string } {
  return { isActive: false, ended: "dead", lastError: error };
}
