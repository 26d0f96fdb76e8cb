/**
 * The lifecycle's definitions (lifecycle.ts) as SQL, generated for both dialects from one
 * text, so the SQLite and PostgreSQL stores cannot disagree with `stateOf` or with each other.
 * Table tests (test/lifecycle/) check every predicate against `stateOf` on real rows.
 */
import { MAX_TIME_MS } from "../schedule/schedule.ts";
import { LEASE_EXPIRED_ERROR, MAX_TIMEOUT_SECONDS, type JobState } from "./lifecycle.ts";

export interface Dialect {
  name: "sqlite" | "postgres";
  /** A boolean column as a condition. */
  isTrue(column: string): string;
  /** A time column plus a number of milliseconds. */
  plusMs(time: string, ms: string): string;
  /** The smaller of two numbers. */
  least(a: string, b: string): string;
  /** Seconds as milliseconds, without overflowing a 32-bit integer. */
  secondsToMs(seconds: string): string;
  /**
   * The last instant a `Date` holds, as a time of this dialect. A time column greater than it
   * holds no time (written by hand): SQLite's too large integers and any text (SQLite orders
   * TEXT after every number), PostgreSQL's `infinity`.
   */
  maxTime: string;
}

export const SQLITE: Dialect = {
  name: "sqlite",
  isTrue: (column) => `${column} = 1`,
  plusMs: (time, ms) => `${time} + ${ms}`,
  least: (a, b) => `min(${a}, ${b})`,
  secondsToMs: (seconds) => `${seconds} * 1000`,
  maxTime: String(MAX_TIME_MS),
};

export const POSTGRES: Dialect = {
  name: "postgres",
  isTrue: (column) => column,
  plusMs: (time, ms) => `${time} + (${ms}) * interval '1 millisecond'`,
  least: (a, b) => `least(${a}, ${b})`,
  secondsToMs: (seconds) => `${seconds} * 1000::bigint`,
  // MAX_TIME_MS as a timestamp.
  maxTime: "'275760-09-13 00:00:00+00'::timestamptz",
};

/** The largest count a counter column holds (PostgreSQL `integer`); a row written by hand may already be there. */
export const MAX_COUNT = 2_147_483_647;

/** `column + 1`, held at `MAX_COUNT`: one row's counter at the limit must not fail a whole claim or finish. */
export const counted = (column: string) => `CASE WHEN ${column} < ${MAX_COUNT} THEN ${column} + 1 ELSE ${column} END`;

/** The SQL of the lifecycle, for one dialect; `now` is an SQL expression (a parameter or a literal). */
export interface LifecycleSql {
  /** A live lease held by an unfinished run (`isRunning`). */
  running: string;
  /** No live lease: a claim may take the row. */
  unleased: string;
  /** Active, due and unleased: what a tick claims (by `next_run_at`, an index range). */
  due: string;
  /**
   * Active, due by `at` (an SQL expression, `now` or a slot just ahead of it) and unleased now:
   * what the server's timer claims shortly before a slot (`Runner`, `CLAIM_EARLY_MS`).
   */
  dueBy: (at: string) => string;
  /**
   * The same, judging a row nobody has scheduled yet by its seed columns (`next_run_at`, else
   * `run_at`, else an interval's creation): what readers count. A cron row nobody has scheduled
   * is not among them: its first match only `dueAtOf` can compute (`unscheduledCron`).
   */
  dueSeed: string;
  /** Active, unleased cron rows nobody has scheduled yet: readers judge them with `dueAtOf`. */
  unscheduledCron: string;
  /** One condition per state, exclusive, exactly `stateOf`. */
  state: Record<JobState, string>;
  /** The state as a value (for counting with GROUP BY). */
  stateCase: string;
  /**
   * Never later than the due time `dueAtOf` gives: `next_run_at`, else `run_at`, else `created_at`
   * (a seed due time is never earlier than those). Lists narrow with it, then judge the rows
   * nobody has scheduled yet with `dueAtOf`, which also knows a cron row's first match.
   */
  dueFloor: string;
  /**
   * The SET list of a claim: takes the lease, counts the attempt, and a crash when the previous
   * claim never finished; a cancel asked of a run that never finished does not reach this one.
   */
  claim: (params: { runId: string; margin: string }) => string;
}

/** Builds the lifecycle's SQL for `dialect`, with `now` (and the column prefix `t`, e.g. `c.`). */
export function lifecycleSql(dialect: Dialect, now: string, t = ""): LifecycleSql {
  // A lease whose end is no time (written by hand) is no lease, as `isRunning` reads it.
  const running = `(${t}locked_by IS NOT NULL AND ${t}locked_until > ${now} AND ${t}locked_until <= ${dialect.maxTime})`;
  const unleased = `(${t}locked_until IS NULL OR ${t}locked_until <= ${now} OR ${t}locked_until > ${dialect.maxTime})`;
  const active = dialect.isTrue(`${t}is_active`);
  const timeoutMs = dialect.secondsToMs(dialect.least(`${t}timeout_seconds`, String(MAX_TIMEOUT_SECONDS)));
  const dueAt = `coalesce(${t}next_run_at, CASE WHEN ${t}cron IS NULL THEN coalesce(${t}run_at, ${t}created_at) END)`;
  const dueBy = (at: string) => `${active} AND ${t}next_run_at <= ${at} AND ${unleased}`;
  return {
    running,
    unleased,
    due: dueBy(now),
    dueBy,
    dueSeed: `${active} AND ${dueAt} <= ${now} AND ${unleased}`,
    unscheduledCron: `${active} AND ${t}next_run_at IS NULL AND ${t}cron IS NOT NULL AND ${unleased}`,
    state: {
      running,
      active: `${active} AND NOT ${running}`,
      paused: `NOT ${active} AND ${t}ended IS NULL AND NOT ${running}`,
      dead: `NOT ${active} AND ${t}ended = 'dead' AND NOT ${running}`,
      finished: `NOT ${active} AND ${t}ended = 'finished' AND NOT ${running}`,
    },
    stateCase: `CASE WHEN ${running} THEN 'running' WHEN ${active} THEN 'active' ELSE coalesce(${t}ended, 'paused') END`,
    dueFloor: `coalesce(${t}next_run_at, ${t}run_at, ${t}created_at)`,
    claim: ({ runId, margin }) => `
      crashes = CASE WHEN ${t}locked_by IS NOT NULL THEN ${counted(`${t}crashes`)} ELSE ${t}crashes END,
      last_error = CASE WHEN ${t}locked_by IS NOT NULL THEN '${LEASE_EXPIRED_ERROR.replaceAll("'", "''")}' ELSE ${t}last_error END,
      locked_by = ${runId}, locked_until = ${dialect.plusMs(now, `${timeoutMs} + ${margin}`)},
      attempts = ${counted(`${t}attempts`)}, updated_at = ${now},
      cancel_requested_at = NULL`,
  };
}
