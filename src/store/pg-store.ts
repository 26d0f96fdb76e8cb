import type { SQL } from "bun";
import { randomUUID } from "node:crypto";
import { and, desc, eq, gt, gte, isNull, lt, lte, sql, type SQL as Condition } from "drizzle-orm";
import { drizzle, type BunSQLDatabase } from "drizzle-orm/bun-sql";
import { cronJobRuns, cronJobs, cronSettings, users } from "../../db/schema/pg.ts";
import { changeAnnouncer, listenForChanges } from "./pg-changes.ts";
import { pgFailure } from "./pg-errors.ts";
import { migratePg, openPg, type PgOptions } from "./pg-open.ts";
import { recordFromRow, withDates, type JobRow } from "./job-rows.ts";
import * as q from "./pg-statements.ts";
import type { JobState } from "../lifecycle/lifecycle.ts";
import { lifecycleSql, POSTGRES } from "../lifecycle/lifecycle-sql.ts";
import { statsOf } from "./store-stats.ts";
import { jobListWhere, POSTGRES_LISTS, runListWhere } from "./filters.ts";

import type {
  ClaimOptions, CronJobRecord, CronJobRunRecord, Finish, FinishOutcome, JobChange, JobFilter, JobValues, RunBucketCount, RunStatus, ScheduledRow,
  NewUser, Page, RunFilter, Store, StoreStats, UserRecord,
} from "./store.ts";

/** A time as ISO text; one no `Date` can hold (written by hand) as NULL. */
const iso = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : d.toISOString());
const at = (ms: number) => new Date(ms);

/**
 * The multi-instance backend (SPEC §9): several `app serve` processes on several hosts share
 * one PostgreSQL database. Same semantics as the SQLite store; claims skip rows another
 * instance holds (`FOR UPDATE SKIP LOCKED`), and instances hear each other's job changes.
 */
export class PgStore implements Store {
  readonly backend = "postgres";
  readonly orm: BunSQLDatabase;
  private readonly unlisteners = new Set<() => Promise<void>>();
  /** Tells every other instance that jobs changed (created, changed, released): whichever is free looks at them now. */
  readonly announceChange: () => void;
  /** Names this instance's notices, so it does not hear its own. */
  private readonly instance = randomUUID();

  private constructor(readonly client: SQL) {
    this.orm = drizzle({ client });
    this.announceChange = changeAnnouncer(client, this.instance);
  }

  /** Opens a pool on `url` and applies the migrations not yet applied (under an advisory lock). */
  static async open(url: string, options: PgOptions & { migrate?: boolean } = {}): Promise<PgStore> {
    const client = openPg(url, options);
    try {
      if (options.migrate !== false) await migratePg(client);
      else await client`SELECT 1`;
      return new PgStore(client);
    } catch (err) {
      await client.close().catch(() => {});
      throw pgFailure(err, "cannot open the database");
    }
  }

  /** Runs `fn`, turning PostgreSQL and connection failures into `AppError`s. */
  private async guard<T>(context: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw pgFailure(err, context);
    }
  }

  private rows(text: string, params: unknown[]): Promise<JobRow[]> {
    return this.client.unsafe<JobRow[]>(text, params);
  }


  listUnscheduled(limit: number) {
    return this.guard("cannot list unscheduled jobs", async () => (await this.rows(q.LIST_UNSCHEDULED, [limit])).map(recordFromRow));
  }

  scheduleRows(rows: ScheduledRow[], now: number) {
    return this.guard("cannot schedule jobs", async () => {
      if (rows.length === 0) return;
      const batch = rows.map((row) => ("nextRunAt" in row ? { id: row.id, next_run_at: row.nextRunAt.toISOString(), error: null } : { id: row.id, next_run_at: null, error: row.error }));
      await this.client.unsafe(q.SCHEDULE_ROWS, [JSON.stringify(batch), at(now)]);
    });
  }

  claimDue({ runId, now, limit, leaseMarginMs }: ClaimOptions) {
    return this.guard("cannot claim due jobs", async () => {
      const rows = await this.rows(q.CLAIM, [at(now), runId, Math.round(leaseMarginMs), limit]);
      return rows.map(recordFromRow).sort((a, b) => a.nextRunAt!.getTime() - b.nextRunAt!.getTime() || a.id - b.id);
    });
  }

  claimOne(id: number, { runId, now, leaseMarginMs }: Omit<ClaimOptions, "limit">) {
    return this.guard("cannot claim the job", async () => {
      const [row] = await this.rows(q.CLAIM_ONE, [at(now), runId, Math.round(leaseMarginMs), id]);
      return row ? recordFromRow(row) : undefined;
    });
  }

  listDue(now: number, limit: number) {
    return this.guard("cannot list due jobs", async () => (await this.rows(q.LIST_DUE, [at(now), limit])).map(recordFromRow));
  }

  finish(finishes: Finish[]) {
    return this.guard("cannot record finished runs", async (): Promise<FinishOutcome[]> => {
      if (finishes.length === 0) return [];
      const batch = finishes.map(({ jobId, runId, change, run }, i) => ({
        i, id: jobId, fence: runId, kind: change.kind,
        ...(change.kind === "update"
          ? { is_active: change.isActive, ended: change.ended, attempts: change.attempts, last_error: change.lastError, last_run_at: iso(change.lastRunAt), next_run_at: iso(change.nextRunAt), keep_lease: change.keepLease }
          : {}),
        job_id: run.jobId, name: run.name, job_type: run.jobType, user_id: run.userId, scheduled_for: iso(run.scheduledFor),
        started_at: iso(run.startedAt), finished_at: iso(run.finishedAt), status: run.status, error: run.error, output: run.output,
        attempt: run.attempt, run_id: run.runId, runner: run.runner,
      }));
      const rows = await this.client.unsafe<{ outcome: FinishOutcome }[]>(q.FINISH, [JSON.stringify(batch)]);
      return rows.map((r) => r.outcome);
    });
  }

  extendLease(id: number, runId: string, until: number) {
    return this.guard("cannot extend the lease", async () => (await this.client.unsafe(q.EXTEND, [at(until), id, runId])).count > 0);
  }

  release(ids: number[], runId: string) {
    return this.guard("cannot release leases", async () => {
      if (ids.length === 0) return;
      await this.client.unsafe(q.RELEASE, [`{${ids.map((id) => Math.trunc(id)).join(",")}}`, runId]);
    });
  }

  nextWakeAt(now: number) {
    return this.guard("cannot read the next due time", async () => {
      const [row] = await this.client.unsafe<{ at: Date | null }[]>(q.NEXT_WAKE, [at(now)]);
      // A hand-written `infinity` (Bun gives `Infinity`) is no time to wake at.
      const next = row?.at ? new Date(row.at).getTime() : Number.NaN;
      return Number.isFinite(next) ? next : null;
    });
  }

  pruneRuns(before: number) {
    return this.guard("cannot prune history", async () => {
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = (await this.client.unsafe(q.PRUNE_CHUNK, [at(before)])).count;
      return total;
    });
  }

  cancelRequests(ids: number[]) {
    return this.guard("cannot read cancel requests", async () => {
      if (ids.length === 0) return [];
      const rows = await this.client.unsafe<{ id: number | bigint | string; runId: string }[]>(q.CANCEL_REQUESTS, [`{${ids.map((id) => Math.trunc(id)).join(",")}}`]);
      return rows.map((row) => ({ id: Number(row.id), runId: row.runId }));
    });
  }

  requestCancel(id: number, now: number) {
    return this.guard("cannot cancel the job", async () => {
      const [row] = await this.rows(q.REQUEST_CANCEL, [at(now), id]);
      return row ? recordFromRow(row) : undefined;
    });
  }

  getJob(id: number) {
    return this.guard("cannot read the job", async (): Promise<CronJobRecord | undefined> =>
      withDates((await this.orm.select().from(cronJobs).where(eq(cronJobs.id, id)))[0]));
  }

  findJob(name: string, userId: number | null) {
    return this.guard("cannot read the job", async (): Promise<CronJobRecord | undefined> => withDates((await this.orm.select().from(cronJobs)
      .where(and(eq(cronJobs.name, name), userId === null ? isNull(cronJobs.userId) : eq(cronJobs.userId, userId))))[0]));
  }

  listJobs(filter: JobFilter, now: number) {
    return this.guard("cannot list jobs", async () => {
      const rows = await this.orm.select().from(cronJobs).where(jobListWhere(cronJobs, POSTGRES_LISTS, filter, now)).orderBy(desc(cronJobs.id)).limit(filter.limit + 1);
      return page<CronJobRecord>(rows.map(withDates), filter.limit);
    });
  }

  insertJob(values: JobValues, now: number) {
    return this.guard("cannot create the job", async (): Promise<CronJobRecord> => {
      const [row] = await this.orm.insert(cronJobs).values({ ...values, createdAt: at(now), updatedAt: at(now) }).returning();
      return row!;
    });
  }

  upsertJob(values: JobValues, now: number) {
    return this.guard("cannot upsert the job", async (): Promise<CronJobRecord> => {
      // One statement, so two instances upserting the same (name, user) at once cannot both insert.
      const [row] = await this.orm.insert(cronJobs).values({ ...values, createdAt: at(now), updatedAt: at(now) })
        .onConflictDoUpdate({
          target: [cronJobs.name, cronJobs.userId],
          set: { ...values, attempts: 0, lastError: null, updatedAt: at(now) },
        }).returning();
      return withDates(row!);
    });
  }

  updateJob(id: number, values: JobChange, now: number) {
    return this.guard("cannot update the job", async (): Promise<CronJobRecord | undefined> => {
      const [row] = await this.orm.update(cronJobs).set({ ...values, updatedAt: at(now) }).where(eq(cronJobs.id, id)).returning();
      return withDates(row);
    });
  }

  deleteJob(id: number) {
    return this.guard("cannot delete the job", async () => {
      const deleted = (await this.orm.delete(cronJobs).where(eq(cronJobs.id, id)).returning({ id: cronJobs.id })).length > 0;
      return deleted;
    });
  }

  listRuns(filter: RunFilter) {
    return this.guard("cannot list runs", async () => {
      const rows = await this.orm.select().from(cronJobRuns).where(runListWhere(cronJobRuns, POSTGRES_LISTS, filter)).orderBy(desc(cronJobRuns.id)).limit(filter.limit + 1);
      return page<CronJobRunRecord>(rows, filter.limit);
    });
  }

  countRunsByBucket(from: number, bucketMs: number) {
    return this.guard("cannot count runs", async () => {
      const rows = await this.client.unsafe<{ start: string | number; status: RunStatus; n: number }[]>(q.RUNS_BY_BUCKET, [at(from), Math.trunc(bucketMs)]);
      return rows.map((r): RunBucketCount => ({ start: Number(r.start), status: r.status, n: Number(r.n) }));
    });
  }

  stats(now: number) {
    return this.guard("cannot read job statistics", async (): Promise<StoreStats> => {
      const [states, [due]] = await Promise.all([
        this.client.unsafe<{ state: JobState; n: number }[]>(q.STATES, [at(now)]),
        this.client.unsafe<{ n: number }[]>(q.DUE_COUNT, [at(now)]),
      ]);
      return statsOf(states, due!.n);
    });
  }

  ping() {
    return this.guard("database check failed", async () => { await this.client`SELECT 1`; });
  }

  readSetting(name: string) {
    return this.guard("cannot read the settings", async () =>
      (await this.client.unsafe<{ value: string }[]>(q.READ_SETTING, [name]))[0]?.value);
  }

  writeSetting(name: string, value: string, now: number) {
    return this.guard("cannot write the settings", async () => {
      await this.orm.insert(cronSettings).values({ name, value, updatedAt: at(now) })
        .onConflictDoUpdate({ target: cronSettings.name, set: { value, updatedAt: at(now) } });
    });
  }

  insertUser(user: NewUser, now: number) {
    return this.guard("cannot create the user", async (): Promise<UserRecord> =>
      (await this.orm.insert(users).values({ ...user, createdAt: at(now), updatedAt: at(now) }).returning())[0]!);
  }

  getUser(id: number) {
    return this.guard("cannot read the user", async (): Promise<UserRecord | undefined> =>
      (await this.orm.select().from(users).where(eq(users.id, id)))[0]);
  }

  getUserByEmail(email: string) {
    return this.guard("cannot read the user", async (): Promise<UserRecord | undefined> =>
      (await this.orm.select().from(users).where(eq(users.email, email)))[0]);
  }

  updateUser(id: number, values: Partial<Omit<UserRecord, "id" | "createdAt">>, now: number) {
    return this.guard("cannot update the user", async (): Promise<UserRecord | undefined> =>
      (await this.orm.update(users).set({ ...values, updatedAt: at(now) }).where(eq(users.id, id)).returning())[0]);
  }

  deletePendingUser(id: number) {
    return this.guard("cannot delete the user", async () =>
      (await this.orm.delete(users).where(and(eq(users.id, id), eq(users.status, "pending"))).returning({ id: users.id })).length > 0);
  }

  /** Calls `onChange` when jobs change through any instance on this database (see `listenForChanges`). */
  watchChanges(onChange: () => void) {
    return this.guard("cannot listen for job changes", async () => {
      const stop = await listenForChanges(this.client, onChange, this.instance);
      const unlisten = async () => {
        this.unlisteners.delete(unlisten);
        await stop();
      };
      this.unlisteners.add(unlisten);
      return unlisten;
    });
  }

  databaseNow() {
    return this.guard("cannot read the database clock", async () => {
      const [row] = await this.client.unsafe<{ ms: number }[]>(q.DB_NOW);
      return Number(row!.ms);
    });
  }

  async close() {
    await Promise.all([...this.unlisteners].map((unlisten) => unlisten()));
    await this.client.close({ timeout: 5 });
  }
}

function page<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}
