import { LEASE_EXPIRED_ERROR } from "./store.ts";

/**
 * The hot statements of the PostgreSQL store, as text. Bun's client prepares each one once per
 * connection (named prepared statements, `prepare: true`) and reuses it afterwards.
 */

const DUE = `is_active AND next_run_at <= $1::timestamptz AND (locked_until IS NULL OR locked_until <= $1::timestamptz)`;

/** $1 now, $2 run id, $3 lease margin (ms). Counts the attempt; marks a lease taken over from a dead run. */
const LEASE = `
  last_error = CASE WHEN c.locked_by IS NOT NULL THEN '${LEASE_EXPIRED_ERROR.replaceAll("'", "''")}' ELSE c.last_error END,
  locked_by = $2, locked_until = $1::timestamptz + (c.timeout_seconds * 1000 + $3::int) * interval '1 millisecond',
  attempts = c.attempts + 1, updated_at = $1::timestamptz`;

/**
 * $4 limit. Rows another claim holds are skipped, not waited for: ticks on several hosts never
 * block each other. `= ANY(ARRAY(…))` makes the update find the chosen rows by primary key
 * (a join would hash the whole table).
 */
export const CLAIM = `
  UPDATE cron_jobs c SET ${LEASE}
  WHERE c.id = ANY(ARRAY(SELECT id FROM cron_jobs WHERE ${DUE} ORDER BY next_run_at LIMIT $4 FOR UPDATE SKIP LOCKED))
  RETURNING c.*`;

/** $4 job id. */
export const CLAIM_ONE = `
  UPDATE cron_jobs c SET ${LEASE}
  WHERE c.id = $4 AND c.is_active AND (c.locked_until IS NULL OR c.locked_until <= $1::timestamptz) RETURNING c.*`;

export const LIST_DUE = `SELECT * FROM cron_jobs WHERE ${DUE} ORDER BY next_run_at LIMIT $2`;

export const LIST_UNSCHEDULED = `SELECT * FROM cron_jobs WHERE next_run_at IS NULL AND is_active ORDER BY id LIMIT $1`;

/**
 * Every finish of a batch in one statement, so in one transaction: the fenced delete or update
 * of each job and its history row commit together or not at all. $1 is a JSON array of
 * finishes; the answer says, in order, whether each change applied (a delete also when the
 * row was already gone), the job was gone, or another run held its lease.
 */
export const FINISH = `
  WITH f AS (
    SELECT * FROM json_to_recordset($1::text::json) AS f(
      i int, id bigint, fence text, kind text, is_active boolean, attempts int, last_error text,
      last_run_at timestamptz, next_run_at timestamptz, keep_lease boolean,
      job_id bigint, name text, job_type text, user_id bigint, scheduled_for timestamptz, started_at timestamptz,
      finished_at timestamptz, status text, error text, attempt int, run_id text, runner text)
  ),
  deleted AS (
    DELETE FROM cron_jobs c USING f
    WHERE f.kind = 'delete' AND c.id = f.id AND c.locked_by = f.fence RETURNING f.i
  ),
  updated AS (
    UPDATE cron_jobs c SET is_active = f.is_active, attempts = f.attempts, last_error = f.last_error,
      last_run_at = f.last_run_at, next_run_at = f.next_run_at, updated_at = f.finished_at,
      locked_by = CASE WHEN f.keep_lease THEN c.locked_by END,
      locked_until = CASE WHEN f.keep_lease THEN c.locked_until END
    FROM f WHERE f.kind = 'update' AND c.id = f.id AND c.locked_by = f.fence RETURNING f.i
  ),
  runs AS (
    INSERT INTO cron_job_runs (job_id, name, job_type, user_id, scheduled_for, started_at, finished_at, status, error, attempt, run_id, runner)
    SELECT job_id, name, job_type, user_id, scheduled_for, started_at, finished_at, status, error, attempt, run_id, runner FROM f ORDER BY i
  )
  SELECT CASE WHEN a.i IS NOT NULL THEN 'applied' WHEN c.id IS NOT NULL THEN 'lease_lost'
    WHEN f.kind = 'delete' THEN 'applied' ELSE 'gone' END AS outcome
  FROM f
  LEFT JOIN (SELECT i FROM deleted UNION ALL SELECT i FROM updated) a ON a.i = f.i
  -- Looked up only for changes that did not apply (OFFSET 0 keeps that test a one-time filter).
  -- It sees the rows as they were before this statement: a row still there is one another run holds.
  LEFT JOIN LATERAL (SELECT c.id FROM cron_jobs c WHERE a.i IS NULL AND c.id = f.id OFFSET 0) c ON true
  ORDER BY f.i`;

/** $1 until, $2 id, $3 run id. */
export const EXTEND = `UPDATE cron_jobs SET locked_until = $1::timestamptz WHERE id = $2 AND locked_by = $3`;

/** $1 ids (a bigint[] literal), $2 run id. */
export const RELEASE = `
  UPDATE cron_jobs SET locked_by = NULL, locked_until = NULL, attempts = greatest(attempts - 1, 0)
  WHERE id = ANY($1::text::bigint[]) AND locked_by = $2`;

/** $1 now: the earliest unleased due time, or the earliest lease end (a crashed run's job comes due then). */
export const NEXT_WAKE = `
  SELECT least(
    (SELECT next_run_at FROM cron_jobs WHERE is_active AND next_run_at IS NOT NULL
       AND (locked_until IS NULL OR locked_until <= $1::timestamptz) ORDER BY next_run_at LIMIT 1),
    (SELECT locked_until FROM cron_jobs WHERE locked_by IS NOT NULL AND locked_until > $1::timestamptz ORDER BY locked_until LIMIT 1)
  ) AS at`;

/** In chunks, so pruning never holds many row locks for long. */
export const PRUNE_CHUNK = `
  DELETE FROM cron_job_runs WHERE id IN (SELECT id FROM cron_job_runs WHERE finished_at < $1::timestamptz LIMIT 5000)`;

export const STATS = `
  SELECT
    (SELECT count(*) FROM cron_jobs)::int AS jobs,
    (SELECT count(*) FROM cron_jobs WHERE is_active)::int AS active,
    (SELECT count(*) FROM cron_jobs WHERE ${DUE})::int AS due,
    (SELECT count(*) FROM cron_jobs WHERE locked_by IS NOT NULL AND locked_until > $1::timestamptz)::int AS running,
    (SELECT count(*) FROM cron_jobs WHERE NOT is_active AND attempts < max_attempts)::int AS paused,
    (SELECT count(*) FROM cron_jobs WHERE NOT is_active AND attempts >= max_attempts)::int AS dead`;

/** The database server's clock, in milliseconds since the epoch. */
export const DB_NOW = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`;
