import { describeSchedule } from "../schedule/describe.ts";
import { dueAtOf, stateOf, type JobState } from "../lifecycle/lifecycle.ts";
import type { ChangeAction, ChangeFields, CronJobChangeRecord, CronJobRecord, CronJobRunRecord } from "../store/store.ts";

/** A job as the control plane answers it: plain JSON, times as ISO strings, payload parsed. */
export interface JobView {
  id: number;
  name: string;
  jobType: string;
  userId: number | null;
  /** From the lifecycle (`stateOf`): running, active, paused, dead or finished. */
  state: JobState;
  isActive: boolean;
  runAt: string | null;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string | null;
  /** The schedule in words: "at 09:00, Monday through Friday (Europe/Paris)", "every 5 minutes". */
  scheduleText: string;
  /** The stored `next_run_at`: null while no server has scheduled a row written by hand. */
  nextRunAt: string | null;
  /**
   * When the job is next due: `nextRunAt`, or for a row nobody has scheduled yet, what its seed
   * columns say (`run_at`; an interval without it, `createdAt`; cron, its first match after those).
   * Null: no time (a schedule that cannot run). `dueBefore` filters on it.
   */
  dueAt: string | null;
  lastRunAt: string | null;
  payload: unknown;
  timeoutSeconds: number;
  maxAttempts: number;
  attempts: number;
  lastError: string | null;
  lockedBy: string | null;
  lockedUntil: string | null;
  /** When `jobs.cancel` asked the running run to stop (null once the run has finished). */
  cancelRequestedAt: string | null;
  /** Schedule policies (SPEC §5.3.1). */
  catchUp: "once" | "skip" | "all";
  startDeadlineSeconds: number | null;
  jitterSeconds: number;
  endsAt: string | null;
  maxRuns: number | null;
  /** Runs finished so far, any status (what `maxRuns` counts). */
  runCount: number;
  createdAt: string;
  updatedAt: string;
}

/** One finished run, from the history. */
export interface RunView {
  id: number;
  jobId: number;
  name: string;
  jobType: string;
  userId: number | null;
  status: CronJobRunRecord["status"];
  scheduledFor: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  error: string | null;
  /** What the run said (`ctx.log`, an `http` job's answer), at most 64 KiB. */
  output: string | null;
  attempt: number;
  runId: string;
  runner: string;
}

/** One row of the audit log (SPEC §2 `cron_job_changes`). */
export interface ChangeView {
  id: number;
  /** Null for a change of all jobs (`pause_all`, `resume_all`); kept after the job is deleted. */
  jobId: number | null;
  action: ChangeAction;
  /** The token's name and the client: `alice (cli)`, `admin (dashboard)`, `system (users)`. */
  actor: string;
  /** The fields the change altered, as they were (a deleted job: all its defining fields). */
  before: ChangeFields | null;
  /** The same fields as the change left them (a created job: all its defining fields). */
  after: ChangeFields | null;
  at: string;
}

/** A time as ISO text; one no `Date` can hold (written by hand, e.g. PostgreSQL `infinity`) as null. */
const iso = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : d.toISOString());
/** The same for a time that is never null; the epoch stands for a hand-written time no `Date` can hold. */
const isoAlways = (d: Date) => iso(d) ?? new Date(0).toISOString();

/** The stored payload text as a value; a hand-written text that is not JSON stays a string. */
export function parsePayload(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function jobView(job: CronJobRecord, now: number): JobView {
  return {
    id: job.id,
    name: job.name,
    jobType: job.jobType,
    userId: job.userId,
    state: stateOf(job, now),
    isActive: job.isActive,
    runAt: iso(job.runAt),
    intervalMinutes: job.intervalMinutes,
    cron: job.cron,
    timezone: job.timezone,
    scheduleText: describeSchedule(job),
    nextRunAt: iso(job.nextRunAt),
    dueAt: iso(new Date(dueAtOf(job) ?? Number.NaN)),
    lastRunAt: iso(job.lastRunAt),
    payload: parsePayload(job.payload),
    timeoutSeconds: job.timeoutSeconds,
    maxAttempts: job.maxAttempts,
    attempts: job.attempts,
    lastError: job.lastError,
    lockedBy: job.lockedBy,
    lockedUntil: iso(job.lockedUntil),
    cancelRequestedAt: iso(job.cancelRequestedAt),
    catchUp: job.catchUp,
    startDeadlineSeconds: job.startDeadlineSeconds,
    jitterSeconds: job.jitterSeconds,
    endsAt: iso(job.endsAt),
    maxRuns: job.maxRuns,
    runCount: job.runCount,
    createdAt: isoAlways(job.createdAt),
    updatedAt: isoAlways(job.updatedAt),
  };
}

export function runView(run: CronJobRunRecord): RunView {
  return {
    id: run.id,
    jobId: run.jobId,
    name: run.name,
    jobType: run.jobType,
    userId: run.userId,
    status: run.status,
    scheduledFor: iso(run.scheduledFor),
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    durationMs: run.finishedAt.getTime() - run.startedAt.getTime(),
    error: run.error,
    output: run.output,
    attempt: run.attempt,
    runId: run.runId,
    runner: run.runner,
  };
}

/** Stored `before`/`after` text as fields; a value that is not a JSON object (written by hand) is kept as `{ value }`. */
function parseFields(text: string | null): ChangeFields | null {
  if (text === null) return null;
  const value = parsePayload(text);
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as ChangeFields : { value };
}

export function changeView(change: CronJobChangeRecord): ChangeView {
  return {
    id: change.id,
    jobId: change.jobId,
    action: change.action,
    actor: change.actor,
    before: parseFields(change.before),
    after: parseFields(change.after),
    at: isoAlways(change.at),
  };
}
