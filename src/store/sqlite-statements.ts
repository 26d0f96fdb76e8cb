import type { Database, Statement } from "bun:sqlite";
import { counted, lifecycleSql, SQLITE } from "../lifecycle/lifecycle-sql.ts";
import type { JobRow } from "./job-rows.ts";
import type { Finish } from "./store.ts";

// The SQLite store's hot path: its statements, prepared once per connection.

const LIFECYCLE = lifecycleSql(SQLITE, "$now");
const DUE = LIFECYCLE.due;
const LEASE = LIFECYCLE.claim({ runId: "$runId", margin: "$margin" });

/** Rows per multi-row statement when a burst of runs is finished. */
export const CHUNK = 64;
const INSERT_RUNS = `INSERT INTO cron_job_runs (job_id, name, job_type, user_id, scheduled_for, started_at, finished_at, status, error, output, attempt, run_id, runner) VALUES`;
const RUN_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/** Appends the parameters of one history row (RUN_VALUES) to `params`. */
export function pushRunParams(params: (string | number | null)[], run: Finish["run"]): void {
  params.push(run.jobId, run.name, run.jobType, run.userId, ms(run.scheduledFor), run.startedAt.getTime(),
    run.finishedAt.getTime(), run.status, run.error, run.output, run.attempt, run.runId, run.runner);
}

/**
 * The row still has the schedule it was claimed with (`claimed`: the claimed `next_run_at`, NULL
 * when it was no time a date holds): a hand UPDATE of a schedule column or `is_active` while
 * the job ran clears `next_run_at` (the trigger of migration 0002) or writes its own, and the
 * run's end must not undo it.
 */
const held = (claimed: string) => `is_active = 1 AND next_run_at IS coalesce(${claimed}, next_run_at)`;

/** The statements whose query plans a test checks ($now, $due, $runId, $margin, $limit; `?` in order). */
export const CLAIM = `UPDATE cron_jobs SET ${LEASE} WHERE id IN (SELECT id FROM cron_jobs WHERE ${LIFECYCLE.dueBy("$due")} ORDER BY next_run_at LIMIT $limit) RETURNING *`;
export const NEXT_DUE = `SELECT next_run_at AS at FROM cron_jobs WHERE is_active = 1 AND next_run_at IS NOT NULL
         AND ${lifecycleSql(SQLITE, "?").unleased} ORDER BY next_run_at LIMIT 1`;
// A lease end that is no time (text, or past what a `Date` holds) is no lease: never a time to wake at.
export const NEXT_LEASE_END = `SELECT locked_until AS at FROM cron_jobs WHERE locked_until > ? AND locked_until <= ${SQLITE.maxTime}
         ORDER BY locked_until LIMIT 1`;
export const UNSCHEDULED = `SELECT * FROM cron_jobs WHERE next_run_at IS NULL AND is_active = 1 ORDER BY id LIMIT ?`;
/** Active rows whose next_run_at is no time a `Date` holds (written by hand): two ranges of the due index, not an OR (a scan). */
export const NO_TIME = `SELECT id FROM cron_jobs WHERE is_active = 1 AND next_run_at > ${SQLITE.maxTime}
         UNION ALL SELECT id FROM cron_jobs WHERE is_active = 1 AND next_run_at < -${SQLITE.maxTime}`;
export const DEAD_WITHOUT_TIME = `UPDATE cron_jobs SET is_active = 0, ended = 'dead', last_error = ?, updated_at = ? WHERE id IN (${NO_TIME})`;

/**
 * The statements that write `n` finishes at once (1 ≤ n ≤ CHUNK), prepared once per size and
 * connection when first needed: finishes come in bursts, and writing them CHUNK rows per
 * statement makes the drain ~30% faster; a burst's remainder goes in one statement too.
 */
export function manyRowStatements(db: Database) {
  const inserts = new Map<number, Statement<never, (string | number | null)[]>>();
  const deletes = new Map<number, Statement<never, (string | number | null)[]>>();
  return {
    /** `n` history rows: RUN_VALUES for each. */
    insertRuns(n: number) {
      let statement = inserts.get(n);
      if (!statement) inserts.set(n, statement = db.prepare(`${INSERT_RUNS} ${Array(n).fill(RUN_VALUES).join(", ")}`));
      return statement;
    },
    /**
     * The fenced delete of `n` rows of one claim (its run id, then the `n` ids, then each id with
     * its claimed next_run_at), each only while it keeps that next_run_at (see `held`).
     */
    deleteFenced(n: number) {
      let statement = deletes.get(n);
      if (!statement) {
        deletes.set(n, statement = db.prepare(`DELETE FROM cron_jobs WHERE locked_by = ? AND id IN (${Array(n).fill("?").join(", ")})
          AND is_active = 1 AND (id, next_run_at) IN (VALUES ${Array(n).fill("(?, ?)").join(", ")})`));
      }
      return statement;
    },
  };
}

/** The hot statements, prepared once per connection. */
export function prepareHot(db: Database) {
  return {
    claim: db.prepare<JobRow, Record<string, string | number>>(CLAIM),
    claimOne: db.prepare<JobRow, Record<string, string | number>>(
      `UPDATE cron_jobs SET ${LEASE} WHERE id = $id AND is_active = 1 AND ${LIFECYCLE.unleased} RETURNING *`),
    due: db.prepare<JobRow, Record<string, number>>(`SELECT * FROM cron_jobs WHERE ${DUE} ORDER BY next_run_at LIMIT $limit`),
    deleteFenced: db.prepare<never, [number, string, number | null]>(`DELETE FROM cron_jobs WHERE id = ? AND locked_by = ? AND ${held("?")}`),
    updateFenced: db.prepare<never, Record<string, string | number | null>>(
      `UPDATE cron_jobs SET is_active = $isActive, ended = $ended, attempts = $attempts, last_error = $lastError,
         last_run_at = $lastRunAt, next_run_at = $nextRunAt, updated_at = $now, crashes = 0, run_count = ${counted("run_count")},
         cancel_requested_at = NULL, locked_by = NULL, locked_until = CASE WHEN $keepLease THEN locked_until END
       WHERE id = $id AND locked_by = $runId AND ${held("$scheduledFor")}`),
    // The end of a run whose schedule was changed by hand while it ran: the run is counted, the
    // row keeps the schedule, is_active and next_run_at written meanwhile.
    finishRescheduled: db.prepare<never, Record<string, string | number | null>>(
      `UPDATE cron_jobs SET attempts = $attempts, last_error = $lastError, last_run_at = $lastRunAt, updated_at = $now,
         crashes = 0, run_count = ${counted("run_count")}, cancel_requested_at = NULL, locked_by = NULL,
         locked_until = CASE WHEN $keepLease THEN locked_until END
       WHERE id = $id AND locked_by = $runId`),
    exists: db.prepare<{ one: number }, [number]>(`SELECT 1 AS one FROM cron_jobs WHERE id = ?`),
    extend: db.prepare<never, [number, number, string]>(`UPDATE cron_jobs SET locked_until = ? WHERE id = ? AND locked_by = ?`),
    release: db.prepare<never, [number, string]>(
      `UPDATE cron_jobs SET locked_by = NULL, locked_until = NULL, attempts = max(attempts - 1, 0) WHERE id = ? AND locked_by = ?`),
    nextDue: db.prepare<{ at: number }, [number]>(NEXT_DUE),
    // A lease's end, live or kept after a run that ignored its abort: the job may be due then.
    nextLeaseEnd: db.prepare<{ at: number }, [number]>(NEXT_LEASE_END),
    unscheduled: db.prepare<JobRow, [number]>(UNSCHEDULED),
    checkpoint: db.prepare("PRAGMA wal_checkpoint(PASSIVE)"),
    // The ids of the runs in flight, as one JSON array: each is a primary-key lookup.
    cancelRequests: db.prepare<{ id: number; runId: string }, [string]>(
      `SELECT id, locked_by AS runId FROM cron_jobs WHERE id IN (SELECT value FROM json_each(?)) AND cancel_requested_at IS NOT NULL AND locked_by IS NOT NULL`),
    requestCancel: db.prepare<JobRow, Record<string, number>>(
      `UPDATE cron_jobs SET cancel_requested_at = coalesce(cancel_requested_at, $now), updated_at = $now WHERE id = $id AND ${LIFECYCLE.running} RETURNING *`),
    // A row a tick must derive next_run_at of, or make dead (one without a usable time).
    anyUnscheduled: db.prepare<{ one: number }, []>(`SELECT 1 AS one FROM cron_jobs WHERE next_run_at IS NULL AND is_active = 1 UNION ALL ${NO_TIME} LIMIT 1`),
    anyWithoutTime: db.prepare<{ id: number }, []>(`${NO_TIME} LIMIT 1`),
    deadWithoutTime: db.prepare<never, [string, number]>(DEAD_WITHOUT_TIME),
    schedule: db.prepare<never, [number, number, number]>(`UPDATE cron_jobs SET next_run_at = ?, updated_at = ? WHERE id = ? AND next_run_at IS NULL`),
    makeDead: db.prepare<never, [number, string, string, number, number]>(
      `UPDATE cron_jobs SET is_active = ?, ended = ?, last_error = ?, updated_at = ? WHERE id = ? AND next_run_at IS NULL`),
    dataVersion: db.prepare<{ data_version: number }, []>("PRAGMA data_version"),
  };
}

/** A time as integer ms; one no `Date` can hold (written by hand) as NULL. */
export const ms = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : d.getTime());
