/**
 * The conditions of the list filters, written once for both backends: drizzle's operators take
 * either dialect's columns, and what differs (the lifecycle's SQL, a time as a parameter, text
 * search) comes from the `ListDialect`. Only the hot statements stay per dialect.
 */
import { and, eq, isNull, lt, sql, type SQL } from "drizzle-orm";
import type * as pg from "../../db/schema/pg.ts";
import type * as sqlite from "../../db/schema/sqlite.ts";
import { dueAtOf } from "../lifecycle/lifecycle.ts";
import { lifecycleSql, POSTGRES, SQLITE, type Dialect } from "../lifecycle/lifecycle-sql.ts";
import type { CronJobRecord, JobFilter, Page, RunFilter } from "./store.ts";

type JobsTable = typeof sqlite.cronJobs | typeof pg.cronJobs;
type RunsTable = typeof sqlite.cronJobRuns | typeof pg.cronJobRuns;

export interface ListDialect {
  lifecycle: Dialect;
  /** A time as an SQL value comparable with a time column. */
  time(at: Date): SQL;
  /** `haystack` contains `needle`, case-insensitively. */
  contains(haystack: SQL, needle: string): SQL;
}

export const SQLITE_LISTS: ListDialect = {
  lifecycle: SQLITE,
  time: (at) => sql`${at.getTime()}`,
  contains: (haystack, needle) => sql`instr(lower(${haystack}), lower(${needle})) > 0`,
};

export const POSTGRES_LISTS: ListDialect = {
  lifecycle: POSTGRES,
  time: (at) => sql`${at.toISOString()}::timestamptz`,
  contains: (haystack, needle) => sql`strpos(lower(${haystack}), lower(${needle})) > 0`,
};

/**
 * The WHERE of `listJobs` at `now`: states and due times from the lifecycle's one definition.
 * `dueBefore` keeps the rows that may be due (`dueFloor`); `listJobPage` judges the rest.
 */
export function jobListWhere(t: JobsTable, d: ListDialect, filter: JobFilter, now: number): SQL | undefined {
  const dueFloor = lifecycleSql(d.lifecycle, "now").dueFloor; // the due time does not depend on now
  const active = sql.raw(d.lifecycle.isTrue("is_active"));
  return and(
    filter.cursor !== undefined ? lt(t.id, filter.cursor) : undefined,
    filter.active !== undefined ? eq(t.isActive, filter.active) : undefined,
    filter.jobType !== undefined ? eq(t.jobType, filter.jobType) : undefined,
    filter.userId === null ? isNull(t.userId) : filter.userId !== undefined ? eq(t.userId, filter.userId) : undefined,
    filter.dueBefore !== undefined ? sql`${active} and ${sql.raw(dueFloor)} <= ${d.time(filter.dueBefore)}` : undefined,
    filter.failingAtLeast !== undefined
      ? sql`${active} and (${t.intervalMinutes} is not null or ${t.cron} is not null) and ${t.attempts} >= ${filter.failingAtLeast}`
      : undefined,
    filter.search ? d.contains(sql`${t.name}`, filter.search) : undefined,
    filter.state !== undefined ? stateAt(d, filter.state, now) : undefined,
  );
}

/**
 * A page of `listJobs`; `read` runs `jobListWhere` for a filter: up to `limit + 1` rows, by id
 * descending. With `dueBefore`, a row is kept when `dueAtOf` says it is due by then (SQL cannot
 * find a cron row's first match), and reading goes on past rows that are not, so a page is full
 * whenever another follows, and its cursor is its last row, as without the filter.
 */
export async function listJobPage(filter: JobFilter, read: (filter: JobFilter) => Promise<CronJobRecord[]>): Promise<Page<CronJobRecord>> {
  const bound = filter.dueBefore?.getTime();
  const isDue = (job: CronJobRecord) => bound === undefined || (dueAtOf(job) ?? Infinity) <= bound;
  const rows: CronJobRecord[] = [];
  for (let cursor = filter.cursor; ;) {
    const batch = await read({ ...filter, cursor });
    rows.push(...batch.filter(isDue));
    if (rows.length > filter.limit || batch.length <= filter.limit) break;
    cursor = batch.at(-1)!.id;
  }
  const items = rows.slice(0, filter.limit);
  return { items, nextCursor: rows.length > filter.limit ? items.at(-1)!.id : null };
}

/** The condition of one state at `now`, with `now` as a parameter of the statement. */
function stateAt(d: ListDialect, state: NonNullable<JobFilter["state"]>, now: number): SQL {
  // The lifecycle's text names `now` once per use: split on a marker and put the parameter in each place.
  const MARK = "\u0000now\u0000";
  const parts = lifecycleSql(d.lifecycle, MARK).state[state].split(MARK);
  return sql.join(parts.map((part, i) => (i === 0 ? sql.raw(part) : sql`${d.time(new Date(now))}${sql.raw(part)}`)), sql``);
}

/** The WHERE of `listRuns`. */
export function runListWhere(t: RunsTable, d: ListDialect, filter: RunFilter): SQL | undefined {
  return and(
    filter.cursor !== undefined ? lt(t.id, filter.cursor) : undefined,
    filter.jobId !== undefined ? eq(t.jobId, filter.jobId) : undefined,
    filter.status !== undefined ? eq(t.status, filter.status) : undefined,
    filter.from !== undefined ? sql`${t.finishedAt} >= ${d.time(filter.from)}` : undefined,
    filter.to !== undefined ? sql`${t.finishedAt} < ${d.time(filter.to)}` : undefined,
  );
}
