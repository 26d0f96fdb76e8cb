import type { CronJobRecord } from "./store.ts";

/**
 * A `cron_jobs` row as the drivers return it from the raw hot-path statements: bun:sqlite gives
 * times as integer milliseconds and booleans as 0/1; Bun's PostgreSQL client gives `bigint` ids
 * as strings and `timestamptz` as `Date`.
 */
export interface JobRow {
  id: number | string;
  name: string;
  job_type: string;
  user_id: number | string | null;
  run_at: number | Date | null;
  interval_minutes: number | null;
  cron: string | null;
  timezone: string | null;
  is_active: number | boolean;
  last_run_at: number | Date | null;
  next_run_at: number | Date | null;
  payload: string | null;
  timeout_seconds: number;
  max_attempts: number;
  attempts: number;
  last_error: string | null;
  locked_by: string | null;
  locked_until: number | Date | null;
  crashes: number;
  ended: "dead" | "finished" | null;
  catch_up: "once" | "skip" | "all";
  start_deadline_seconds: number | null;
  jitter_seconds: number;
  ends_at: number | Date | null;
  max_runs: number | null;
  run_count: number;
  cancel_requested_at: number | Date | null;
  created_at: number | Date;
  updated_at: number | Date;
}

/**
 * A time as a `Date`. A time written by hand outside the range a `Date` holds (SQLite
 * `9000000000000000`, PostgreSQL `infinity`, which Bun's client gives as `Infinity`) or as text
 * (SQLite) becomes an invalid `Date` (NaN): readers show it as no time, the schedule check makes
 * the job dead, and the SQL (`lifecycleSql`) reads it the same way.
 */
const date = (value: number | Date | null): Date | null =>
  (value === null ? null : new Date(typeof value === "string" ? Number.NaN : value));

const TIME_FIELDS = ["runAt", "lastRunAt", "nextRunAt", "lockedUntil", "endsAt", "cancelRequestedAt", "createdAt", "updatedAt"] as const;

/**
 * A record read through drizzle, with every time a `Date`: drizzle passes PostgreSQL's
 * `infinity` through as the number Bun's client gives (`Infinity`), which is no `Date`.
 */
export function withDates<T extends CronJobRecord | undefined>(record: T): T {
  if (record === undefined) return record;
  for (const field of TIME_FIELDS) {
    const value = record[field] as unknown;
    if (value !== null && !(value instanceof Date)) (record as Record<string, unknown>)[field] = new Date(value as number);
  }
  return record;
}

/** The same `CronJobRecord` from either backend, field for field. */
export function recordFromRow(row: JobRow): CronJobRecord {
  return {
    id: Number(row.id),
    name: row.name,
    jobType: row.job_type,
    userId: row.user_id === null ? null : Number(row.user_id),
    runAt: date(row.run_at),
    intervalMinutes: row.interval_minutes,
    cron: row.cron,
    timezone: row.timezone,
    isActive: Boolean(row.is_active),
    lastRunAt: date(row.last_run_at),
    nextRunAt: date(row.next_run_at),
    payload: row.payload,
    timeoutSeconds: row.timeout_seconds,
    maxAttempts: row.max_attempts,
    attempts: row.attempts,
    lastError: row.last_error,
    lockedBy: row.locked_by,
    lockedUntil: date(row.locked_until),
    crashes: row.crashes,
    ended: row.ended,
    catchUp: row.catch_up,
    startDeadlineSeconds: row.start_deadline_seconds,
    jitterSeconds: row.jitter_seconds,
    endsAt: date(row.ends_at),
    maxRuns: row.max_runs,
    runCount: row.run_count,
    cancelRequestedAt: date(row.cancel_requested_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
