import type { SQL } from "bun";
import { randomUUID } from "node:crypto";
import { and, desc, eq, gt, gte, isNull, lt, lte, sql, type SQL as Condition } from "drizzle-orm";
import { drizzle, type BunSQLDatabase } from "drizzle-orm/bun-sql";
import { cronJobChanges, cronJobRuns, cronJobs, cronSettings, users } from "../../db/schema/pg.ts";
import { AppError } from "../errors.ts";
import { changeAnnouncer, listenForChanges } from "./pg-changes.ts";
import { pgFailure } from "./pg-errors.ts";
import { migratePg, openPg, type PgOptions } from "./pg-open.ts";
import { recordFromRow, withDates, type JobRow } from "./job-rows.ts";
import * as q from "./pg-statements.ts";
import type { JobState } from "../lifecycle/lifecycle.ts";
import { lifecycleSql, POSTGRES } from "../lifecycle/lifecycle-sql.ts";
import { dueUnscheduled, JUDGED_UNSCHEDULED_CRON, statsOf } from "./store-stats.ts";
import { jobListWhere, listJobPage, POSTGRES_LISTS, runListWhere } from "./filters.ts";
import { jobDiff, jobFields, settingDiff } from "./change-log.ts";

import type {
  Audit, ChangeFilter, ClaimOptions, CronJobChangeRecord, CronJobRecord, CronJobRunRecord, Finish, FinishOutcome, JobChange, JobFilter, JobValues,
  NewChange, RunBucketCount, RunStatus, ScheduledRow, NewUser, Page, RunFilter, SettingAction, Settle, Store, StoreStats, UpdateAction, UserRecord,
} from "./store.ts";

/** One transaction: its connection for raw statements, and drizzle over the same connection. */
interface Tx {
  sql: SQL;
  db: BunSQLDatabase;
}

/** How often an audited upsert looks again when another instance inserted the same (name, user) meanwhile. */
const UPSERT_TRIES = 5;

/** A time as a PostgreSQL parameter; NULL for no time a `Date` holds (written by hand). */
const iso = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : pgTime(d));

/**
 * ISO 8601 inside the years 1–9999; outside them PostgreSQL's own form, which it reads where it
 * refuses ISO's signed six-digit years (`-004712-01-01T…`): `4713-01-01T…Z BC`, `275760-09-13T…Z`.
 * A `run_at` written by hand as 4713 BC is a time like any other, and its run must be recorded.
 */
export function pgTime(d: Date): string {
  const text = d.toISOString();
  const year = d.getUTCFullYear();
  if (year >= 1 && year <= 9999) return text;
  const rest = text.slice(text.indexOf("-", 1)); // -MM-DDTHH:MM:SS.mmmZ
  return year >= 1 ? `${year}${rest}` : `${1 - year}${rest} BC`;
}
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

  /** Runs `fn` in one transaction: a change and its audit row commit together or not at all. */
  private transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.client.begin((sql) => fn({ sql, db: drizzle({ client: sql }) })) as Promise<T>;
  }

  /** Writes one audit row through `db` (inside a change's transaction when that change is audited). */
  private async logChange(db: BunSQLDatabase, { jobId, action, actor, before, after, at: when }: NewChange): Promise<CronJobChangeRecord> {
    const [row] = await db.insert(cronJobChanges).values({
      jobId, action, actor, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after), at: at(when),
    }).returning();
    return row!;
  }

  /** The audit row of an update (`before` → `after`), when it altered a field. */
  private async logUpdate(db: BunSQLDatabase, action: UpdateAction, before: CronJobRecord, after: CronJobRecord, audit: Audit): Promise<void> {
    const diff = jobDiff(before, after);
    if (diff) await this.logChange(db, { jobId: after.id, action, actor: audit.actor, ...diff, at: audit.at });
  }

  /** The job's row, locked until the transaction ends. */
  private async lockedJob(db: BunSQLDatabase, id: number): Promise<CronJobRecord | undefined> {
    return withDates((await db.select().from(cronJobs).where(eq(cronJobs.id, id)).for("update"))[0]);
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

  deadWithoutTime(error: string, now: number) {
    return this.guard("cannot schedule jobs", async () => (await this.client.unsafe(q.DEAD_WITHOUT_TIME, [error, at(now)])).count);
  }

  claimDue({ runId, now, dueBy = now, limit, leaseMarginMs }: ClaimOptions) {
    return this.guard("cannot claim due jobs", async () => {
      const rows = await this.rows(q.CLAIM, [at(now), runId, Math.round(leaseMarginMs), limit, at(Math.max(now, dueBy))]);
      return rows.map(recordFromRow).sort((a, b) => a.nextRunAt!.getTime() - b.nextRunAt!.getTime() || a.id - b.id);
    });
  }

  claimOne(id: number, { runId, now, leaseMarginMs }: Omit<ClaimOptions, "limit">, audit?: Audit) {
    return this.guard("cannot claim the job", async () => {
      const params = [at(now), runId, Math.round(leaseMarginMs), id];
      if (!audit) {
        const [row] = await this.rows(q.CLAIM_ONE, params);
        return row ? recordFromRow(row) : undefined;
      }
      return this.transaction(async ({ sql, db }) => {
        const [row] = await sql.unsafe<JobRow[]>(q.CLAIM_ONE, params);
        if (!row) return undefined;
        await this.logChange(db, { jobId: id, action: "run_now", actor: audit.actor, before: null, after: { runId }, at: audit.at });
        return recordFromRow(row);
      });
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

  pruneChanges(before: number) {
    return this.guard("cannot prune the audit log", async () => {
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = (await this.client.unsafe(q.PRUNE_CHANGES_CHUNK, [at(before)])).count;
      return total;
    });
  }

  recordChange(change: NewChange) {
    return this.guard("cannot record the change", () => this.logChange(this.orm, change));
  }

  listChanges(filter: ChangeFilter) {
    return this.guard("cannot list changes", async () => {
      const rows = await this.orm.select().from(cronJobChanges).where(and(
        filter.cursor !== undefined ? lt(cronJobChanges.id, filter.cursor) : undefined,
        filter.jobId !== undefined ? eq(cronJobChanges.jobId, filter.jobId) : undefined,
      )).orderBy(desc(cronJobChanges.id)).limit(filter.limit + 1);
      return page<CronJobChangeRecord>(rows, filter.limit);
    });
  }

  cancelRequests(ids: number[]) {
    return this.guard("cannot read cancel requests", async () => {
      if (ids.length === 0) return [];
      const rows = await this.client.unsafe<{ id: number | bigint | string; runId: string }[]>(q.CANCEL_REQUESTS, [`{${ids.map((id) => Math.trunc(id)).join(",")}}`]);
      return rows.map((row) => ({ id: Number(row.id), runId: row.runId }));
    });
  }

  requestCancel(id: number, now: number, audit?: Audit) {
    return this.guard("cannot cancel the job", async () => {
      if (!audit) {
        const [row] = await this.rows(q.REQUEST_CANCEL, [at(now), id]);
        return row ? recordFromRow(row) : undefined;
      }
      return this.transaction(async ({ sql, db }) => {
        const before = await this.lockedJob(db, id);
        const [row] = await sql.unsafe<JobRow[]>(q.REQUEST_CANCEL, [at(now), id]);
        if (!row || !before) return undefined;
        const job = recordFromRow(row);
        const diff = jobDiff(before, job);
        if (diff) await this.logChange(db, { jobId: id, action: "cancel", actor: audit.actor, ...diff, at: audit.at });
        return job;
      });
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
    return listJobPage(filter, (f) => this.guard("cannot list jobs", async () =>
      (await this.orm.select().from(cronJobs).where(jobListWhere(cronJobs, POSTGRES_LISTS, f, now)).orderBy(desc(cronJobs.id)).limit(f.limit + 1)).map(withDates)));
  }

  insertJob(values: JobValues, now: number, audit?: Audit, settle?: Settle) {
    return this.guard("cannot create the job", async (): Promise<CronJobRecord> => {
      if (!audit && !settle) return this.insertRow(this.orm, values, now);
      return this.transaction(async ({ db }) => {
        const job = await this.settled(db, await this.insertRow(db, values, now), settle);
        if (audit) await this.logChange(db, { jobId: job.id, action: "create", actor: audit.actor, before: null, after: jobFields(job), at: audit.at });
        return job;
      });
    });
  }

  private async insertRow(db: BunSQLDatabase, values: JobValues, now: number): Promise<CronJobRecord> {
    const [row] = await db.insert(cronJobs).values({ ...values, createdAt: at(now), updatedAt: at(now) }).returning();
    return withDates(row!);
  }

  /** The row after its last change `settle` (the jitter), inside the write's transaction. */
  private async settled(db: BunSQLDatabase, job: CronJobRecord, settle: Settle | undefined): Promise<CronJobRecord> {
    const change = settle?.(job);
    return change ? withDates((await db.update(cronJobs).set(change).where(eq(cronJobs.id, job.id)).returning())[0]!) : job;
  }

  upsertJob(values: JobValues, now: number, audit?: Audit, settle?: Settle) {
    return this.guard("cannot upsert the job", async (): Promise<CronJobRecord> => {
      const replace = { ...values, attempts: 0, lastError: null, updatedAt: at(now) };
      if (!audit && !settle) {
        // One statement, so two instances upserting the same (name, user) at once cannot both insert.
        const [row] = await this.orm.insert(cronJobs).values({ ...values, createdAt: at(now), updatedAt: at(now) })
          .onConflictDoUpdate({ target: [cronJobs.name, cronJobs.userId], set: replace }).returning();
        return withDates(row!);
      }
      // Audited (or settled), the row as it was is needed: locked if it exists, else inserted unless
      // another instance inserted it meanwhile (then it is locked and updated on the next round).
      return this.transaction(async ({ db }) => {
        const sameKey = and(eq(cronJobs.name, values.name), values.userId === null ? isNull(cronJobs.userId) : eq(cronJobs.userId, values.userId));
        for (let tries = 0; tries < UPSERT_TRIES; tries++) {
          const existing = withDates((await db.select().from(cronJobs).where(sameKey).for("update"))[0]);
          if (existing) {
            const job = await this.settled(db, withDates((await db.update(cronJobs).set(replace).where(eq(cronJobs.id, existing.id)).returning())[0]!), settle);
            if (audit) await this.logUpdate(db, "update", existing, job, audit);
            return job;
          }
          const [inserted] = await db.insert(cronJobs).values({ ...values, createdAt: at(now), updatedAt: at(now) })
            .onConflictDoNothing({ target: [cronJobs.name, cronJobs.userId] }).returning();
          if (inserted) {
            const job = await this.settled(db, withDates(inserted), settle);
            if (audit) await this.logChange(db, { jobId: job.id, action: "create", actor: audit.actor, before: null, after: jobFields(job), at: audit.at });
            return job;
          }
        }
        throw new AppError("UNAVAILABLE", `the job "${values.name}" kept changing under other writers: try again`);
      });
    });
  }

  updateJob(id: number, values: JobChange, now: number, audit?: Audit & { action: UpdateAction }) {
    return this.guard("cannot update the job", async (): Promise<CronJobRecord | undefined> => {
      const update = (db: BunSQLDatabase) => db.update(cronJobs).set({ ...values, updatedAt: at(now) }).where(eq(cronJobs.id, id)).returning();
      if (!audit) return withDates((await update(this.orm))[0]);
      return this.transaction(async ({ db }) => {
        const before = await this.lockedJob(db, id);
        if (!before) return undefined;
        const job = withDates((await update(db))[0]!);
        await this.logUpdate(db, audit.action, before, job, audit);
        return job;
      });
    });
  }

  deleteJob(id: number, audit?: Audit) {
    return this.guard("cannot delete the job", async () => {
      if (!audit) return (await this.orm.delete(cronJobs).where(eq(cronJobs.id, id)).returning({ id: cronJobs.id })).length > 0;
      return this.transaction(async ({ db }) => {
        const [row] = await db.delete(cronJobs).where(eq(cronJobs.id, id)).returning();
        if (!row) return false;
        await this.logChange(db, { jobId: id, action: "delete", actor: audit.actor, before: jobFields(withDates(row)), after: null, at: audit.at });
        return true;
      });
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
      const [states, [due], unscheduled] = await Promise.all([
        this.client.unsafe<{ state: JobState; n: number }[]>(q.STATES, [at(now)]),
        this.client.unsafe<{ n: number }[]>(q.DUE_COUNT, [at(now)]),
        this.rows(q.UNSCHEDULED_CRON, [at(now), JUDGED_UNSCHEDULED_CRON]),
      ]);
      return statsOf(states, due!.n + dueUnscheduled(unscheduled.map(recordFromRow), now));
    });
  }

  ping() {
    return this.guard("database check failed", async () => { await this.client`SELECT 1`; });
  }

  readSetting(name: string) {
    return this.guard("cannot read the settings", async () =>
      (await this.client.unsafe<{ value: string }[]>(q.READ_SETTING, [name]))[0]?.value);
  }

  writeSetting(name: string, value: string, now: number, audit?: Audit & { action: SettingAction; unset: string }) {
    return this.guard("cannot write the settings", async () => {
      const write = (db: BunSQLDatabase) => db.insert(cronSettings).values({ name, value, updatedAt: at(now) })
        .onConflictDoUpdate({ target: cronSettings.name, set: { value, updatedAt: at(now) } });
      if (!audit) {
        await write(this.orm);
        return;
      }
      await this.transaction(async ({ db }) => {
        // Never written, the setting is first written as `unset`: then it is always there to lock,
        // and two servers pausing at once record one change.
        await db.insert(cronSettings).values({ name, value: audit.unset, updatedAt: at(now) }).onConflictDoNothing({ target: cronSettings.name });
        const [old] = await db.select({ value: cronSettings.value }).from(cronSettings).where(eq(cronSettings.name, name)).for("update");
        await write(db);
        const diff = settingDiff(name, old?.value, value, audit.unset);
        if (diff) await this.logChange(db, { jobId: null, action: audit.action, actor: audit.actor, ...diff, at: audit.at });
      });
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
