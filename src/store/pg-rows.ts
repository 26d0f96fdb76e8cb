import type { CronJobRecord } from "./store.ts";

/**
 * A `cron_jobs` row as Bun's PostgreSQL client returns it from the raw hot-path statements:
 * `bigint` ids arrive as strings, `timestamptz` as `Date`, booleans as booleans.
 */
export interface PgJobRow {
  id: string | number;
  name: string;
  job_type: string;
  user_id: string | number | null;
  run_at: Date | null;
  interval_minutes: number | null;
  cron: string | null;
  timezone: string | null;
  is_active: boolean;
  last_run_at: Date | null;
  next_run_at: Date | null;
  payload: string | null;
  timeout_seconds: number;
  max_attempts: number;
  attempts: number;
  last_error: string | null;
  locked_by: string | null;
  locked_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

const date = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** The same `CronJobRecord` the SQLite store returns, field for field. */
export function recordFromPgRow(row: PgJobRow): CronJobRecord {
  return {
    id: Number(row.id),
    name: row.name,
    jobType: row.job_type,
    userId: row.user_id === null ? null : Number(row.user_id),
    runAt: date(row.run_at),
    intervalMinutes: row.interval_minutes,
    cron: row.cron,
    timezone: row.timezone,
    isActive: row.is_active,
    lastRunAt: date(row.last_run_at),
    nextRunAt: date(row.next_run_at),
    payload: row.payload,
    timeoutSeconds: row.timeout_seconds,
    maxAttempts: row.max_attempts,
    attempts: row.attempts,
    lastError: row.last_error,
    lockedBy: row.locked_by,
    lockedUntil: date(row.locked_until),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
