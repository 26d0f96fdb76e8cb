import type { Database } from "bun:sqlite";
import { and, desc, eq, gt, isNull, lt, lte, sql, type SQL } from "drizzle-orm";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { cronJobChanges, cronJobRuns, cronJobs, cronSettings, users } from "../../db/schema/sqlite.ts";
import { AppError } from "../errors.ts";
import { migrateSqlite, openSqlite, type SqliteOptions } from "./sqlite-open.ts";
import { isBusy, sqliteFailure } from "./sqlite-errors.ts";
import { walBacklog } from "./sqlite-wal.ts";
import { recordFromRow, type JobRow } from "./job-rows.ts";
import { CHUNK, manyRowStatements, ms, prepareHot, pushRunParams } from "./sqlite-statements.ts";
import { deadChange, type JobState } from "../lifecycle/lifecycle.ts";
import { lifecycleSql, SQLITE } from "../lifecycle/lifecycle-sql.ts";
import { dueUnscheduled, JUDGED_UNSCHEDULED_CRON, statsOf } from "./store-stats.ts";
import { jobListWhere, listJobPage, runListWhere, SQLITE_LISTS } from "./filters.ts";
import { jobDiff, jobFields, settingDiff } from "./change-log.ts";

const LIFECYCLE_NOW = lifecycleSql(SQLITE, "$now");
import type {
  Audit, ChangeFilter, ClaimOptions, CronJobChangeRecord, CronJobRecord, CronJobRunRecord, Finish, FinishOutcome, JobChange, JobFilter, JobValues,
  NewChange, RunBucketCount, ScheduledRow, NewUser, Page, RunFilter, SettingAction, Settle, Store, StoreStats, UpdateAction, UserRecord,
} from "./store.ts";


/** How long a statement may block the event loop waiting for another connection's lock. */
const SYNC_BUSY_MS = 20;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** How often a watching store checks whether another connection wrote (SPEC §2: seen within 100 ms). */
const WATCH_EVERY_MS = 25;
/**
 * Attached (an empty in-memory database) by every connection of this app: the triggers of
 * cron_jobs (db/migrations/sqlite/0002_hand_rows.sql) leave the app's own writes alone.
 */
const WRITER_MARK = "cronjobs_writer";

/** The embedded default backend: one SQLite file, shared safely by several processes on one host. */
export class SqliteStore implements Store {
  readonly backend = "sqlite";
  readonly orm: BunSQLiteDatabase;
  private readonly hot: ReturnType<typeof prepareHot>;
  private readonly many: ReturnType<typeof manyRowStatements>;
  private readonly watchers = new Set<() => Promise<void>>();

  private constructor(readonly client: Database, private readonly busyTimeoutMs: number, private readonly file: string) {
    this.orm = drizzle({ client });
    this.hot = prepareHot(client);
    this.many = manyRowStatements(client);
  }

  /** Opens (creating if needed) and migrates the database file. */
  static open(file: string, options: SqliteOptions & { migrate?: boolean } = {}): SqliteStore {
    const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
    const client = openSqlite(file, { ...options, busyTimeoutMs });
    try {
      if (options.migrate !== false) migrateSqlite(client);
      // bun:sqlite waits for a lock synchronously, freezing the whole process (HTTP server, job
      // timers) for up to the busy timeout. Past start-up the connection gives up after a moment,
      // and `guard` waits for the rest of the busy timeout without blocking the event loop.
      client.run(`PRAGMA busy_timeout = ${Math.min(SYNC_BUSY_MS, busyTimeoutMs)}`);
      client.run(`ATTACH DATABASE ':memory:' AS ${WRITER_MARK}`);
      return new SqliteStore(client, busyTimeoutMs, file);
    } catch (err) {
      client.close();
      throw sqliteFailure(err, "cannot open the database");
    }
  }

  /**
   * Runs `fn` (one statement or one transaction, so nothing of it is kept when it fails), turning
   * SQLite failures into `AppError`s. While another connection holds the lock it is tried again,
   * asynchronously, until the busy timeout has passed.
   */
  private guard<T>(context: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (isBusy(err) && this.busyTimeoutMs > SYNC_BUSY_MS) return this.retryWhileBusy(context, fn);
      return Promise.reject(sqliteFailure(err, context));
    }
  }

  private async retryWhileBusy<T>(context: string, fn: () => T): Promise<T> {
    const deadline = performance.now() + this.busyTimeoutMs - SYNC_BUSY_MS;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      await Bun.sleep(Math.max(0, Math.min(pause, deadline - performance.now())));
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err) || performance.now() >= deadline) throw sqliteFailure(err, context);
      }
    }
  }

  listUnscheduled(limit: number) {
    return this.guard("cannot list unscheduled jobs", () => this.hot.unscheduled.all(limit).map(recordFromRow));
  }

  scheduleRows(rows: ScheduledRow[], now: number) {
    return this.guard("cannot schedule jobs", () => this.client.transaction(() => {
      for (const row of rows) {
        if ("nextRunAt" in row) {
          this.hot.schedule.run(row.nextRunAt.getTime(), now, row.id);
        } else {
          const dead = deadChange(row.error);
          this.hot.makeDead.run(dead.isActive ? 1 : 0, dead.ended, dead.lastError, now, row.id);
        }
      }
    }).immediate());
  }

  deadWithoutTime(error: string, now: number) {
    // Read first: every tick asks, and an UPDATE would take the write lock even when nothing matches.
    return this.guard("cannot schedule jobs", () => (this.hot.anyWithoutTime.get() ? this.hot.deadWithoutTime.run(error, now).changes : 0));
  }

  claimDue({ runId, now, dueBy = now, limit, leaseMarginMs }: ClaimOptions) {
    return this.guard("cannot claim due jobs", () => {
      const rows = this.client.transaction(() =>
        this.hot.claim.all({ $runId: runId, $now: now, $due: Math.max(now, dueBy), $margin: leaseMarginMs, $limit: limit })).immediate();
      return rows.map(recordFromRow).sort((a, b) => a.nextRunAt!.getTime() - b.nextRunAt!.getTime() || a.id - b.id);
    });
  }

  claimOne(id: number, { runId, now, leaseMarginMs }: Omit<ClaimOptions, "limit">, audit?: Audit) {
    return this.guard("cannot claim the job", () => {
      const row = this.client.transaction(() => {
        const claimed = this.hot.claimOne.get({ $id: id, $runId: runId, $now: now, $margin: leaseMarginMs });
        if (claimed && audit) this.logChange({ jobId: id, action: "run_now", actor: audit.actor, before: null, after: { runId }, at: audit.at });
        return claimed;
      }).immediate();
      return row ? recordFromRow(row) : undefined;
    });
  }

  listDue(now: number, limit: number) {
    return this.guard("cannot list due jobs", () => this.hot.due.all({ $now: now, $limit: limit }).map(recordFromRow));
  }

  finish(finishes: Finish[]) {
    return this.guard("cannot record finished runs", () => this.client.transaction(() => this.finishAll(finishes)).immediate());
  }

  /** Fenced changes and history rows of a burst of finishes, inside one transaction. */
  private finishAll(finishes: Finish[]): FinishOutcome[] {
    const missed = new Set<Finish>(); // changes that did not apply
    const deletes = new Map<string, Finish[]>(); // by runId: deleted CHUNK rows per statement
    for (const finish of finishes) {
      const { jobId, runId, change, run } = finish;
      if (change.kind === "delete") {
        const batch = deletes.get(runId) ?? [];
        deletes.set(runId, batch);
        batch.push(finish);
        continue;
      }
      const changed = this.hot.updateFenced.run({
        $id: jobId, $runId: runId, $now: run.finishedAt.getTime(), $isActive: change.isActive ? 1 : 0,
        $ended: change.ended, $attempts: change.attempts, $lastError: change.lastError, $lastRunAt: ms(change.lastRunAt),
        $nextRunAt: ms(change.nextRunAt), $keepLease: change.keepLease ? 1 : 0, $scheduledFor: ms(run.scheduledFor),
      }).changes;
      if (changed === 0 && !this.finishRescheduled(finish)) missed.add(finish);
    }
    for (const [runId, batch] of deletes) {
      for (let i = 0; i < batch.length; i += CHUNK) {
        const chunk = batch.slice(i, i + CHUNK);
        const claimed = chunk.map((f) => ms(f.run.scheduledFor));
        // A claimed next_run_at that was no time (made dead before a claim now) matches any: one by one.
        const deleted = claimed.includes(null)
          ? chunk.reduce((n, f, k) => n + this.hot.deleteFenced.run(f.jobId, runId, claimed[k]!).changes, 0)
          : this.many.deleteFenced(chunk.length).run(runId, ...chunk.map((f) => f.jobId), ...chunk.flatMap((f, k) => [f.jobId, claimed[k]!])).changes;
        // Almost always every row went; otherwise the rows still there are told apart here and below.
        if (deleted < chunk.length) for (const finish of chunk) if (!this.finishRescheduled(finish)) missed.add(finish);
      }
    }
    const params: (string | number | null)[] = [];
    for (let i = 0; i < finishes.length; i += CHUNK) {
      const n = Math.min(CHUNK, finishes.length - i);
      params.length = 0;
      for (let j = i; j < i + n; j++) pushRunParams(params, finishes[j]!.run);
      this.many.insertRuns(n).run(...params);
    }
    // A change that did not apply: another run holds the row, or it is gone (the job's own work
    // removed it; for a delete that is its end state).
    return finishes.map((finish) => {
      if (!missed.has(finish)) return "applied";
      if (this.hot.exists.get(finish.jobId)) return "lease_lost";
      return finish.change.kind === "delete" ? "applied" : "gone";
    });
  }

  /**
   * Ends a run whose row this tick still holds but whose schedule was changed by hand while it
   * ran (the fenced change did not apply): counts the run and keeps what was written. False when
   * the row is gone or another run holds it.
   */
  private finishRescheduled({ jobId, runId, change, run }: Finish): boolean {
    const kept = change.kind === "update" ? change : { attempts: 0, lastError: null, lastRunAt: run.startedAt, keepLease: false };
    return this.hot.finishRescheduled.run({
      $id: jobId, $runId: runId, $now: run.finishedAt.getTime(), $attempts: kept.attempts, $lastError: kept.lastError,
      $lastRunAt: ms(kept.lastRunAt), $keepLease: kept.keepLease ? 1 : 0,
    }).changes > 0;
  }

  extendLease(id: number, runId: string, until: number) {
    return this.guard("cannot extend the lease", () => this.hot.extend.run(until, id, runId).changes > 0);
  }

  release(ids: number[], runId: string) {
    return this.guard("cannot release leases", () => {
      this.client.transaction(() => { for (const id of ids) this.hot.release.run(id, runId); }).immediate();
    });
  }

  nextWakeAt(now: number) {
    return this.guard("cannot read the next due time", () => {
      // A row nobody has scheduled yet (written by hand) waits for a tick to derive its due time
      // (or, when its next_run_at is no time, to make it dead).
      if (this.hot.anyUnscheduled.get()) return now;
      const times = [this.hot.nextDue.get(now)?.at, this.hot.nextLeaseEnd.get(now)?.at].filter((t) => t != null);
      return times.length > 0 ? Math.min(...times) : null;
    });
  }

  checkpoint(minFrames: number) {
    return this.guard("cannot checkpoint the write-ahead log", () => {
      // PASSIVE: copies what no reader still needs, and never waits on another connection.
      if (walBacklog(this.file) >= Math.max(1, minFrames)) this.hot.checkpoint.get();
    });
  }

  pruneRuns(before: number) {
    return this.guard("cannot prune history", () => this.pruneInChunks("cron_job_runs", "finished_at", before));
  }

  pruneChanges(before: number) {
    return this.guard("cannot prune the audit log", () => this.pruneInChunks("cron_job_changes", "at", before));
  }

  /** Deletes the rows of `table` older than `before`, 5,000 per statement, so pruning never holds the write lock for long. */
  private pruneInChunks(table: "cron_job_runs" | "cron_job_changes", column: "finished_at" | "at", before: number): number {
    const chunk = this.client.prepare<never, [number]>(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${column} < ? LIMIT 5000)`);
    let total = 0;
    for (let deleted = chunk.run(before).changes; deleted > 0; deleted = chunk.run(before).changes) total += deleted;
    return total;
  }

  recordChange(change: NewChange) {
    return this.guard("cannot record the change", () => this.logChange(change));
  }

  listChanges(filter: ChangeFilter) {
    return this.guard("cannot list changes", () => {
      const rows = this.orm.select().from(cronJobChanges).where(and(
        filter.cursor !== undefined ? lt(cronJobChanges.id, filter.cursor) : undefined,
        filter.jobId !== undefined ? eq(cronJobChanges.jobId, filter.jobId) : undefined,
      )).orderBy(desc(cronJobChanges.id)).limit(filter.limit + 1).all();
      return page<CronJobChangeRecord>(rows, filter.limit);
    });
  }

  /** Writes one audit row; inside a write's transaction when that write is audited. */
  private logChange({ jobId, action, actor, before, after, at }: NewChange): CronJobChangeRecord {
    return this.orm.insert(cronJobChanges).values({
      jobId, action, actor, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after), at: new Date(at),
    }).returning().get();
  }

  /** The audit row of an update (`before` → `after`), when it altered a field. */
  private logUpdate(action: UpdateAction, before: CronJobRecord, after: CronJobRecord, audit: Audit): void {
    const diff = jobDiff(before, after);
    if (diff) this.logChange({ jobId: after.id, action, actor: audit.actor, ...diff, at: audit.at });
  }

  private jobRow(id: number): CronJobRecord | undefined {
    return this.orm.select().from(cronJobs).where(eq(cronJobs.id, id)).get();
  }

  cancelRequests(ids: number[]) {
    return this.guard("cannot read cancel requests", () => (ids.length === 0 ? [] : this.hot.cancelRequests.all(JSON.stringify(ids))));
  }

  requestCancel(id: number, now: number, audit?: Audit) {
    return this.guard("cannot cancel the job", () => this.client.transaction(() => {
      const before = audit && this.jobRow(id);
      const row = this.hot.requestCancel.get({ $id: id, $now: now });
      const job = row ? recordFromRow(row) : undefined;
      if (job && before && audit) {
        const diff = jobDiff(before, job);
        if (diff) this.logChange({ jobId: id, action: "cancel", actor: audit.actor, ...diff, at: audit.at });
      }
      return job;
    }).immediate());
  }

  getJob(id: number) {
    return this.guard("cannot read the job", () => this.jobRow(id));
  }

  findJob(name: string, userId: number | null) {
    return this.guard("cannot read the job", () => this.orm.select().from(cronJobs)
      .where(and(eq(cronJobs.name, name), userId === null ? isNull(cronJobs.userId) : eq(cronJobs.userId, userId))).get());
  }

  listJobs(filter: JobFilter, now: number) {
    return listJobPage(filter, (f) => this.guard("cannot list jobs", () =>
      this.orm.select().from(cronJobs).where(jobListWhere(cronJobs, SQLITE_LISTS, f, now)).orderBy(desc(cronJobs.id)).limit(f.limit + 1).all()));
  }

  insertJob(values: JobValues, now: number, audit?: Audit, settle?: Settle) {
    return this.guard("cannot create the job", () => this.client.transaction(() => this.insertRow(values, now, audit, settle)).immediate());
  }

  private insertRow(values: JobValues, now: number, audit: Audit | undefined, settle: Settle | undefined): CronJobRecord {
    const at = new Date(now);
    const job = this.settled(this.orm.insert(cronJobs).values({ ...values, createdAt: at, updatedAt: at }).returning().get(), settle);
    if (audit) this.logChange({ jobId: job.id, action: "create", actor: audit.actor, before: null, after: jobFields(job), at: audit.at });
    return job;
  }

  /** The row after its last change `settle` (the jitter), inside the write's transaction. */
  private settled(job: CronJobRecord, settle: Settle | undefined): CronJobRecord {
    const change = settle?.(job);
    return change ? this.orm.update(cronJobs).set(change).where(eq(cronJobs.id, job.id)).returning().get()! : job;
  }

  upsertJob(values: JobValues, now: number, audit?: Audit, settle?: Settle) {
    return this.guard("cannot upsert the job", () => this.client.transaction(() => {
      const existing = this.orm.select().from(cronJobs)
        .where(and(eq(cronJobs.name, values.name), values.userId === null ? isNull(cronJobs.userId) : eq(cronJobs.userId, values.userId))).get();
      if (!existing) return this.insertRow(values, now, audit, settle);
      const job = this.settled(this.orm.update(cronJobs)
        .set({ ...values, attempts: 0, lastError: null, updatedAt: new Date(now) })
        .where(eq(cronJobs.id, existing.id)).returning().get()!, settle);
      if (audit) this.logUpdate("update", existing, job, audit);
      return job;
    }).immediate());
  }

  updateJob(id: number, values: JobChange, now: number, audit?: Audit & { action: UpdateAction }) {
    return this.guard("cannot update the job", () => this.client.transaction(() => {
      const before = audit && this.jobRow(id);
      const job = this.orm.update(cronJobs).set({ ...values, updatedAt: new Date(now) }).where(eq(cronJobs.id, id)).returning().get();
      if (job && before && audit) this.logUpdate(audit.action, before, job, audit);
      return job;
    }).immediate());
  }

  deleteJob(id: number, audit?: Audit) {
    return this.guard("cannot delete the job", () => this.client.transaction(() => {
      const row = this.orm.delete(cronJobs).where(eq(cronJobs.id, id)).returning().get();
      if (row && audit) this.logChange({ jobId: id, action: "delete", actor: audit.actor, before: jobFields(row), after: null, at: audit.at });
      return row !== undefined;
    }).immediate());
  }

  listRuns(filter: RunFilter) {
    return this.guard("cannot list runs", () => {
      const rows = this.orm.select().from(cronJobRuns).where(runListWhere(cronJobRuns, SQLITE_LISTS, filter)).orderBy(desc(cronJobRuns.id)).limit(filter.limit + 1).all();
      return page<CronJobRunRecord>(rows, filter.limit);
    });
  }

  countRunsByBucket(from: number, bucketMs: number) {
    return this.guard("cannot count runs", () => this.client.query<RunBucketCount, [number, number]>(
      `SELECT (finished_at / ?1) * ?1 AS start, status, count(*) AS n FROM cron_job_runs WHERE finished_at >= ?2 GROUP BY 1, 2`,
    ).all(Math.trunc(bucketMs), from));
  }

  stats(now: number) {
    return this.guard("cannot read job statistics", (): StoreStats => {
      const states = this.client.query<{ state: JobState; n: number }, { $now: number }>(
        `SELECT ${LIFECYCLE_NOW.stateCase} AS state, count(*) AS n FROM cron_jobs GROUP BY 1`).all({ $now: now });
      const due = this.client.query<{ n: number }, { $now: number }>(
        `SELECT count(*) AS n FROM cron_jobs WHERE ${LIFECYCLE_NOW.dueSeed}`).get({ $now: now })?.n ?? 0;
      const unscheduled = this.client.query<JobRow, { $now: number; $limit: number }>(
        `SELECT * FROM cron_jobs WHERE ${LIFECYCLE_NOW.unscheduledCron} ORDER BY id LIMIT $limit`).all({ $now: now, $limit: JUDGED_UNSCHEDULED_CRON });
      return statsOf(states, due + dueUnscheduled(unscheduled.map(recordFromRow), now));
    });
  }

  ping() {
    return this.guard("database check failed", () => { this.client.query("SELECT 1").get(); });
  }

  readSetting(name: string) {
    return this.guard("cannot read the settings", () =>
      this.client.query<{ value: string }, [string]>("SELECT value FROM cron_settings WHERE name = ?").get(name)?.value);
  }

  writeSetting(name: string, value: string, now: number, audit?: Audit & { action: SettingAction; unset: string }) {
    return this.guard("cannot write the settings", () => this.client.transaction(() => {
      const old = audit && this.client.query<{ value: string }, [string]>("SELECT value FROM cron_settings WHERE name = ?").get(name)?.value;
      this.orm.insert(cronSettings).values({ name, value, updatedAt: new Date(now) })
        .onConflictDoUpdate({ target: cronSettings.name, set: { value, updatedAt: new Date(now) } }).run();
      const diff = audit && settingDiff(name, old, value, audit.unset);
      if (audit && diff) this.logChange({ jobId: null, action: audit.action, actor: audit.actor, ...diff, at: audit.at });
    }).immediate());
  }

  insertUser(user: NewUser, now: number) {
    return this.guard("cannot create the user", () => {
      const at = new Date(now);
      try {
        return this.orm.insert(users).values({ ...user, createdAt: at, updatedAt: at }).returning().get();
      } catch (err) {
        const mapped = sqliteFailure(err, "cannot create the user");
        if (mapped instanceof AppError && mapped.code === "CONFLICT") throw new AppError("CONFLICT", "a user with this email already exists", { cause: err });
        throw mapped;
      }
    });
  }

  getUser(id: number) {
    return this.guard("cannot read the user", (): UserRecord | undefined => this.orm.select().from(users).where(eq(users.id, id)).get());
  }

  getUserByEmail(email: string) {
    return this.guard("cannot read the user", () => this.orm.select().from(users).where(eq(users.email, email)).get());
  }

  updateUser(id: number, values: Partial<Omit<UserRecord, "id" | "createdAt">>, now: number) {
    return this.guard("cannot update the user", () =>
      this.orm.update(users).set({ ...values, updatedAt: new Date(now) }).where(eq(users.id, id)).returning().get());
  }

  deletePendingUser(id: number) {
    return this.guard("cannot delete the user", () =>
      this.orm.delete(users).where(and(eq(users.id, id), eq(users.status, "pending"))).returning({ id: users.id }).all().length > 0);
  }

  /**
   * Calls `onChange` when another connection (another process, the web application writing rows
   * by hand) commits to the database: `PRAGMA data_version` of this connection moves then, and
   * not for its own writes. Checked every WATCH_EVERY_MS while watching (a few µs each).
   */
  watchChanges(onChange: () => void) {
    return this.guard("cannot watch for job changes", () => {
      let seen = this.hot.dataVersion.get()!.data_version;
      const timer = setInterval(() => {
        let version: number;
        try {
          version = this.hot.dataVersion.get()!.data_version;
        } catch {
          return; // closed, or a passing error: the next check (or the minute tick) catches up
        }
        if (version !== seen) {
          seen = version;
          onChange();
        }
      }, WATCH_EVERY_MS);
      // A CLI command that opened the store is not kept alive by the watch.
      timer.unref();
      const unwatch = async () => {
        clearInterval(timer);
        this.watchers.delete(unwatch);
      };
      this.watchers.add(unwatch);
      return unwatch;
    });
  }

  async close() {
    await Promise.all([...this.watchers].map((unwatch) => unwatch()));
    this.client.close();
  }
}

function page<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}
