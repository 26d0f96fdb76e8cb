import { counted, lifecycleSql, POSTGRES } from "../lifecycle/lifecycle-sql.ts";

/**
 * The hot statements of the PostgreSQL store, as text. Bun's client prepares each one once per
 * connection (named prepared statements, `prepare: true`) and reuses it afterwards.
 */

const LIFECYCLE = lifecycleSql(POSTGRES, "$1::timestamptz");
const DUE = LIFECYCLE.due;

/** $1 now, $2 run id, $3 lease margin (ms). Counts the attempt; counts a crash when the previous claim never finished. */
const LEASE = lifecycleSql(POSTGRES, "$1::timestamptz", "c.").claim({ runId: "$2", margin: "$3::int" });

/**
 * $4 limit, $5 due by (now, or a slot just ahead of it). Rows another claim holds are skipped,
 * not waited for: ticks on several hosts never block each other. `= ANY(ARRAY(…))` makes the
 * update find the chosen rows by primary key (a join would hash the whole table).
 */
export const CLAIM = `
  UPDATE cron_jobs c SET ${LEASE}
  WHERE c.id = ANY(ARRAY(SELECT id FROM cron_jobs WHERE ${LIFECYCLE.dueBy("$5::timestamptz")} ORDER BY next_run_at LIMIT $4 FOR UPDATE SKIP LOCKED))
  RETURNING c.*`;

/** $4 job id. */
export const CLAIM_ONE = `
  UPDATE cron_jobs c SET ${LEASE}
  WHERE c.id = $4 AND c.is_active AND ${lifecycleSql(POSTGRES, "$1::timestamptz", "c.").unleased} RETURNING c.*`;

export const LIST_DUE = `SELECT * FROM cron_jobs WHERE ${DUE} ORDER BY next_run_at LIMIT $2`;

export const LIST_UNSCHEDULED = `SELECT * FROM cron_jobs WHERE next_run_at IS NULL AND is_active ORDER BY id LIMIT $1`;

/** Active rows whose next_run_at is no time a `Date` holds (written by hand: `infinity`, a year past 275760), by the due index. */
const NO_TIME = `is_active AND (next_run_at > ${POSTGRES.maxTime} OR next_run_at = '-infinity')`;

/** $1 error, $2 now. */
export const DEAD_WITHOUT_TIME = `
  UPDATE cron_jobs SET is_active = false, ended = 'dead', last_error = $1, updated_at = $2::timestamptz WHERE ${NO_TIME}`;

/**
 * The row still has the schedule it was claimed with (`f.scheduled_for`, the claimed
 * `next_run_at`, to the millisecond a `Date` holds; NULL when it was no such time): a hand UPDATE
 * of a schedule column or `is_active` while the job ran clears `next_run_at` (the trigger of
 * migration 0002) or writes its own, and the run's end must not undo it.
 */
const HELD = `(c.is_active AND (f.scheduled_for IS NULL OR coalesce(
  c.next_run_at > f.scheduled_for - interval '1 millisecond' AND c.next_run_at < f.scheduled_for + interval '1 millisecond', false)))`;

/**
 * Every finish of a batch in one statement, so in one transaction: the fenced delete or update
 * of each job and its history row commit together or not at all. $1 is a JSON array of
 * finishes; the answer says, in order, whether each change applied (a delete also when the
 * row was already gone), the job was gone, or another run held its lease.
 */
export const FINISH = `
  WITH f AS (
    SELECT * FROM json_to_recordset($1::text::json) AS f(
      i int, id bigint, fence text, kind text, is_active boolean, ended text, attempts int, last_error text,
      last_run_at timestamptz, next_run_at timestamptz, keep_lease boolean,
      job_id bigint, name text, job_type text, user_id bigint, scheduled_for timestamptz, started_at timestamptz,
      finished_at timestamptz, status text, error text, output text, attempt int, run_id text, runner text)
  ),
  deleted AS (
    DELETE FROM cron_jobs c USING f
    WHERE f.kind = 'delete' AND c.id = f.id AND c.locked_by = f.fence AND ${HELD} RETURNING f.i
  ),
  updated AS (
    UPDATE cron_jobs c SET is_active = f.is_active, ended = f.ended, attempts = f.attempts, last_error = f.last_error,
      last_run_at = f.last_run_at, next_run_at = f.next_run_at, updated_at = f.finished_at,
      crashes = 0, run_count = ${counted("c.run_count")}, cancel_requested_at = NULL,
      locked_by = NULL, locked_until = CASE WHEN f.keep_lease THEN c.locked_until END
    FROM f WHERE f.kind = 'update' AND c.id = f.id AND c.locked_by = f.fence AND ${HELD} RETURNING f.i
  ),
  -- A run whose schedule was changed by hand while it ran: counted; the row keeps the schedule,
  -- is_active and next_run_at written meanwhile (a one-time job that succeeded is kept).
  rescheduled AS (
    UPDATE cron_jobs c SET attempts = coalesce(f.attempts, 0), last_error = f.last_error,
      last_run_at = CASE WHEN f.kind = 'delete' THEN f.started_at ELSE f.last_run_at END, updated_at = f.finished_at,
      crashes = 0, run_count = ${counted("c.run_count")}, cancel_requested_at = NULL,
      locked_by = NULL, locked_until = CASE WHEN f.keep_lease THEN c.locked_until END
    FROM f WHERE f.i NOT IN (SELECT i FROM deleted UNION ALL SELECT i FROM updated)
      AND c.id = f.id AND c.locked_by = f.fence AND NOT ${HELD} RETURNING f.i
  ),
  runs AS (
    INSERT INTO cron_job_runs (job_id, name, job_type, user_id, scheduled_for, started_at, finished_at, status, error, output, attempt, run_id, runner)
    SELECT job_id, name, job_type, user_id, scheduled_for, started_at, finished_at, status, error, output, attempt, run_id, runner FROM f ORDER BY i
  )
  SELECT CASE WHEN a.i IS NOT NULL THEN 'applied' WHEN c.id IS NOT NULL THEN 'lease_lost'
    WHEN f.kind = 'delete' THEN 'applied' ELSE 'gone' END AS outcome
  FROM f
  LEFT JOIN (SELECT i FROM deleted UNION ALL SELECT i FROM updated UNION ALL SELECT i FROM rescheduled) a ON a.i = f.i
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

/**
 * $1 now: the earliest unleased due time, or the earliest lease end (live or kept: the job may
 * come due then), or now when a row nobody has scheduled yet (written by hand) waits for a tick
 * to derive its due time, or to make it dead when its next_run_at is no time.
 */
export const NEXT_WAKE = `
  SELECT least(
    (SELECT next_run_at FROM cron_jobs WHERE is_active AND next_run_at > '-infinity'
       AND ${LIFECYCLE.unleased} ORDER BY next_run_at LIMIT 1),
    (SELECT locked_until FROM cron_jobs WHERE locked_until > $1::timestamptz AND locked_until <= ${POSTGRES.maxTime} ORDER BY locked_until LIMIT 1),
    (SELECT $1::timestamptz WHERE EXISTS (SELECT 1 FROM cron_jobs WHERE next_run_at IS NULL AND is_active)
       OR EXISTS (SELECT 1 FROM cron_jobs WHERE ${NO_TIME}))
  ) AS at`;

/** In chunks, so pruning never holds many row locks for long. */
export const PRUNE_CHUNK = `
  DELETE FROM cron_job_runs WHERE id IN (SELECT id FROM cron_job_runs WHERE finished_at < $1::timestamptz LIMIT 5000)`;

/** In chunks, like the history: audit rows written before $1. */
export const PRUNE_CHANGES_CHUNK = `
  DELETE FROM cron_job_changes WHERE id IN (SELECT id FROM cron_job_changes WHERE at < $1::timestamptz LIMIT 5000)`;

/** $1 now: jobs in each state, from the lifecycle's one definition. */
export const STATES = `SELECT ${LIFECYCLE.stateCase} AS state, count(*)::int AS n FROM cron_jobs GROUP BY 1`;

/** $1 now: jobs due now, rows nobody has scheduled yet judged by their seed columns. */
export const DUE_COUNT = `SELECT count(*)::int AS n FROM cron_jobs WHERE ${LIFECYCLE.dueSeed}`;
/** $1 now, $2 limit: cron rows nobody has scheduled yet, which a count judges with `dueAtOf`. */
export const UNSCHEDULED_CRON = `SELECT * FROM cron_jobs WHERE ${LIFECYCLE.unscheduledCron} ORDER BY id LIMIT $2`;

/** $1 JSON array of { id, next_run_at, error }, $2 now: derived schedules of rows written by hand, in one statement. */
export const SCHEDULE_ROWS = `
  UPDATE cron_jobs c SET
    next_run_at = f.next_run_at,
    is_active = CASE WHEN f.error IS NULL THEN c.is_active ELSE false END,
    ended = CASE WHEN f.error IS NULL THEN c.ended ELSE 'dead' END,
    last_error = coalesce(f.error, c.last_error), updated_at = $2::timestamptz
  FROM json_to_recordset($1::text::json) AS f(id bigint, next_run_at timestamptz, error text)
  WHERE c.id = f.id AND c.next_run_at IS NULL`;

/** $1 from, $2 bucket size (ms): runs finished since `from`, counted by epoch-aligned bucket and status. */
export const RUNS_BY_BUCKET = `
  SELECT (floor(extract(epoch FROM finished_at) * 1000 / $2::bigint) * $2::bigint)::bigint AS start, status, count(*)::int AS n
  FROM cron_job_runs WHERE finished_at >= $1::timestamptz GROUP BY 1, 2`;

/** The database server's clock, in milliseconds since the epoch. */
export const DB_NOW = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`;

/** $1 job ids (a bigint[] literal): those whose run `jobs.cancel` asked to stop, each a primary-key lookup. */
export const CANCEL_REQUESTS = `
  SELECT id, locked_by AS "runId" FROM cron_jobs
  WHERE id = ANY($1::text::bigint[]) AND cancel_requested_at IS NOT NULL AND locked_by IS NOT NULL`;

/** $1 now, $2 job id: marks the run holding the job to be stopped, only while a live lease holds it. */
export const REQUEST_CANCEL = `
  UPDATE cron_jobs SET cancel_requested_at = coalesce(cancel_requested_at, $1::timestamptz), updated_at = $1::timestamptz
  WHERE id = $2 AND ${LIFECYCLE.running} RETURNING *`;

/** $1 name: one shared setting (`cron_settings`), read once per tick for `paused`. */
export const READ_SETTING = `SELECT value FROM cron_settings WHERE name = $1`;
