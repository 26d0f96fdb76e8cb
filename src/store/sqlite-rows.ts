import type { CronJobRecord } from "./store.ts";

/** A `cron_jobs` row as bun:sqlite returns it from the raw hot-path statements. */
export interface RawJobRow {
  id: number;
  name: string;
  job_type: string;
  user_id: number | null;
  run_at: number | null;
  interval_minutes: number | null;
  cron: string | null;
  timezone: string | null;
  is_active: number;
  last_run_at: number | null;
  next_run_at: number | null;
  payload: string | null;
  timeout_seconds: number;
  max_attempts: number;
  attempts: number;
  last_error: string | null;
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export function recordFromRow(row: RawJobRow): CronJobRecord {
  return {
    id: row.id,
    name: row.name,
    jobType: row.job_type,
    userId: row.user_id,
    runAt: date(row.run_at),
    intervalMinutes: row.interval_minutes,
    cron: row.cron,
    timezone: row.timezone,
    isActive: row.is_active !== 0,
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
