import type { CronJobChangeRecord, CronJobRecord, CronJobRunRecord, RunStatus, UserRecord } from "../../db/schema/sqlite.ts";
import type { FinishChange, JobState } from "../lifecycle/lifecycle.ts";

export type { CronJobChangeRecord, CronJobRecord, CronJobRunRecord, FinishChange, JobState, RunStatus, UserRecord };

/** What an audit row says was done (`cron_job_changes.action`, SPEC §2). */
export type ChangeAction = CronJobChangeRecord["action"];

/** Fields of a job as JSON (times as ISO text, the payload parsed): an audit row's `before` or `after`. */
export type ChangeFields = Record<string, unknown>;

/**
 * Who makes a management change, and when (the runtime's clock). Given to a write of the jobs
 * service, the store writes the change's audit row in the change's own transaction.
 */
export interface Audit {
  /** `alice (cli)`, `system (users)`. */
  actor: string;
  at: number;
}

/** A last change of a row just written that depends on the row itself (its id); undefined: none. */
export type Settle = (job: CronJobRecord) => JobChange | undefined;

/** The actions `writeSetting` records. */
export type SettingAction = Extract<ChangeAction, "pause_all" | "resume_all">;

/** The actions `updateJob` records (it is told which). */
export type UpdateAction = Extract<ChangeAction, "update" | "pause" | "resume" | "retry">;

/** One audit row to write. */
export interface NewChange {
  /** Null for a change of all jobs (`pause_all`, `resume_all`). */
  jobId: number | null;
  action: ChangeAction;
  actor: string;
  before: ChangeFields | null;
  after: ChangeFields | null;
  at: number;
}

export interface ChangeFilter {
  limit: number;
  /** The last id of the previous page; pages go by id, newest first. */
  cursor?: number | undefined;
  jobId?: number | undefined;
}

export type NewRun = Omit<CronJobRunRecord, "id">;

export interface Finish {
  jobId: number;
  /** The fence: the change applies only while this tick still holds the lease. */
  runId: string;
  change: FinishChange;
  run: NewRun;
}

/**
 * What `finish` did with one run: applied (for a delete: the row is gone, whoever removed it),
 * gone (an update found no row: the job's own work deleted it), or another run held the lease.
 */
export type FinishOutcome = "applied" | "gone" | "lease_lost";

export interface ClaimOptions {
  runId: string;
  /** Leases are judged, and taken, at this time. */
  now: number;
  /**
   * Claims the jobs due by this time (default and at least `now`): the server's timer claims a
   * burst shortly before its slot, and starts each job at its own `next_run_at` (`Runner`).
   */
  dueBy?: number;
  limit: number;
  /** Added to each job's `timeout_seconds` to make its lease. */
  leaseMarginMs: number;
}

/** The columns a job is written with; the jobs service validates and derives them. */
/** A row nobody had scheduled, with its first due time or the reason it can never run. */
export type ScheduledRow = { id: number; nextRunAt: Date } | { id: number; error: string };

/** The columns a management change may set. */
export type JobChange = Partial<JobValues> & Partial<Pick<CronJobRecord, "attempts" | "lastError" | "ended" | "crashes">>;

export interface JobValues {
  name: string;
  jobType: string;
  userId: number | null;
  runAt: Date | null;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string | null;
  payload: string | null;
  timeoutSeconds: number;
  maxAttempts: number;
  isActive: boolean;
  nextRunAt: Date | null;
  // Schedule policies (SPEC §5.3.1); absent: the table's defaults (the jobs service always gives them).
  catchUp?: CronJobRecord["catchUp"];
  startDeadlineSeconds?: number | null;
  jitterSeconds?: number;
  endsAt?: Date | null;
  maxRuns?: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: number | null;
}

export interface JobFilter {
  limit: number;
  /** The last id of the previous page; pages go by id, newest first. */
  cursor?: number | undefined;
  active?: boolean | undefined;
  state?: JobState | undefined;
  jobType?: string | undefined;
  userId?: number | null | undefined;
  dueBefore?: Date | undefined;
  /** Active recurring jobs whose `attempts` (their consecutive failures, the current claim included) is at least this. */
  failingAtLeast?: number | undefined;
  search?: string | undefined;
}

export interface RunFilter {
  limit: number;
  cursor?: number | undefined;
  jobId?: number | undefined;
  status?: RunStatus | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Runs of one status in one bucket: `start` is the bucket's start (epoch ms). */
export interface RunBucketCount {
  start: number;
  status: RunStatus;
  n: number;
}

export interface StoreStats {
  jobs: number;
  /** Due now and not leased, judging rows nobody has scheduled yet by their seed columns. */
  due: number;
  /** Jobs in each state (`stateOf`): they add up to `jobs`. */
  states: Record<JobState, number>;
}

export interface NewUser {
  email: string;
  status: "pending" | "active";
  passwordHash: string | null;
  registrationTokenHash: string | null;
}

/** What the runner uses: the hot path of claiming, finishing and waking (SPEC §5). */
export interface RunnerStore {
  /** Active rows without `next_run_at` (written by hand), oldest first, found by index. */
  listUnscheduled(limit: number): Promise<CronJobRecord[]>;
  /** Sets `next_run_at` of rows still unscheduled, or makes them dead with an error, in one transaction. */
  scheduleRows(rows: ScheduledRow[], now: number): Promise<void>;
  /** Makes dead, with `error`, the active rows whose `next_run_at` is no time a `Date` holds (written by hand), found by index. */
  deadWithoutTime(error: string, now: number): Promise<number>;
  /** Atomically leases up to `limit` due jobs (ordered by `next_run_at`), counting an attempt. */
  claimDue(options: ClaimOptions): Promise<CronJobRecord[]>;
  /**
   * Leases one job now, if it is active and not leased: `jobs.runNow` goes through this. With
   * `audit`, the claim's `run_now` audit row (after: `{ runId }`) is written in its transaction.
   */
  claimOne(id: number, options: Omit<ClaimOptions, "limit">, audit?: Audit): Promise<CronJobRecord | undefined>;
  /** Due jobs, without claiming them (a dry run). */
  listDue(now: number, limit: number): Promise<CronJobRecord[]>;
  /** Applies each fenced change and writes its history row in the same transaction. */
  finish(finishes: Finish[]): Promise<FinishOutcome[]>;
  /** Heartbeat: moves the lease's end while `runId` still holds it. */
  extendLease(id: number, runId: string, until: number): Promise<boolean>;
  /** Gives back unfinished leases (shutdown), undoing their attempt. */
  release(ids: number[], runId: string): Promise<void>;
  /** When the server's timer should look next: the earliest unleased `next_run_at` or lease end. */
  nextWakeAt(now: number): Promise<number | null>;
  /** Deletes history rows finished before `before`. */
  pruneRuns(before: number): Promise<number>;
  /**
   * Folds what was written into the database file (SQLite's write-ahead log checkpoint) when at
   * least `minFrames` frames of log are not in it yet. The server's timer asks when no claim
   * waits on it (`src/runner/tick-timer.ts`): SQLite's own checkpoint, at 1,000 frames, falls in
   * whichever commit crosses the mark, which may be the claim a burst of due jobs waits on (+8
   * ms, measured). Backends without such a log leave it out.
   */
  checkpoint?(minFrames: number): Promise<void>;
  /**
   * Of the jobs `ids` (the runs in flight here), those `jobs.cancel` asked to stop, with the run
   * (`locked_by`) the cancel is for. Found by primary key: cheap enough to ask several times a second.
   */
  cancelRequests(ids: number[]): Promise<CancelRequest[]>;
}

/** A cancel asked of the run `runId` of job `id`. */
export interface CancelRequest {
  id: number;
  runId: string;
}

/**
 * What the jobs service (the control plane) uses to manage jobs. Each write given an `audit`
 * writes its audit row (SPEC §2 `cron_job_changes`) in the same transaction: `before`/`after`
 * are the fields it altered (all of a created or deleted job's defining fields); a write that
 * altered no field (pausing a paused job, an upsert of the same values) writes none.
 */
export interface JobStore {
  getJob(id: number): Promise<CronJobRecord | undefined>;
  findJob(name: string, userId: number | null): Promise<CronJobRecord | undefined>;
  /**
   * Throws `AppError("CONFLICT")` when `(name, userId)` exists. Audited as `create`. `settle`
   * gives a last change that needs the written row (its id: the jitter), applied in the same
   * transaction before the audit row is written.
   */
  insertJob(values: JobValues, now: number, audit?: Audit, settle?: Settle): Promise<CronJobRecord>;
  /**
   * Inserts, or updates the row with the same `(name, userId)`: audited as `create` or `update`,
   * as it turned out. `settle` as for `insertJob`.
   */
  upsertJob(values: JobValues, now: number, audit?: Audit, settle?: Settle): Promise<CronJobRecord>;
  updateJob(id: number, values: JobChange, now: number, audit?: Audit & { action: UpdateAction }): Promise<CronJobRecord | undefined>;
  /** Audited as `delete`. */
  deleteJob(id: number, audit?: Audit): Promise<boolean>;
  /**
   * Marks the job's run to be stopped (`cancel_requested_at`), only while a live lease holds it;
   * answers the row, or undefined when it is not running (or does not exist). Audited as `cancel`.
   */
  requestCancel(id: number, now: number, audit?: Audit): Promise<CronJobRecord | undefined>;
}

/** The audit log (SPEC §2 `cron_job_changes`): one row per change made through the control plane or the dashboard. */
export interface ChangeLogStore {
  /** Writes one audit row on its own (the writes of `JobStore` write theirs themselves). */
  recordChange(change: NewChange): Promise<CronJobChangeRecord>;
  /** Audit rows, newest first, by pages; of one job (deleted or not) with `jobId`. */
  listChanges(filter: ChangeFilter): Promise<Page<CronJobChangeRecord>>;
  /** Deletes audit rows written before `before`. */
  pruneChanges(before: number): Promise<number>;
}

/** What jobs themselves may touch: the users domain (the built-ins expire codes and registrations). */
export interface UserStore {
  insertUser(user: NewUser, now: number): Promise<UserRecord>;
  getUser(id: number): Promise<UserRecord | undefined>;
  getUserByEmail(email: string): Promise<UserRecord | undefined>;
  updateUser(id: number, values: Partial<Omit<UserRecord, "id" | "createdAt">>, now: number): Promise<UserRecord | undefined>;
  /** Deletes the user only while still `pending`; their jobs go by cascade. */
  deletePendingUser(id: number): Promise<boolean>;
}

/** Settings shared by every server on the database (`cron_settings`; `paused`: pause all). */
export interface SettingsStore {
  /** The setting's value, or undefined when it was never written. */
  readSetting(name: string): Promise<string | undefined>;
  /**
   * Writes (or overwrites) the setting. With `audit`, the change's audit row (no job; before and
   * after: `{ [name]: value }`, the value parsed as JSON, `unset` standing for a setting never
   * written) is written in the same transaction, unless the value stays the same.
   */
  writeSetting(name: string, value: string, now: number, audit?: Audit & { action: SettingAction; unset: string }): Promise<void>;
}

/** What readers use: lists, the dashboard, `/metrics`, the watchdog. */
export interface ReadStore {
  getJob(id: number): Promise<CronJobRecord | undefined>;
  listJobs(filter: JobFilter, now: number): Promise<Page<CronJobRecord>>;
  listRuns(filter: RunFilter): Promise<Page<CronJobRunRecord>>;
  /** Runs finished since `from`, counted by status in buckets of `bucketMs` aligned to the epoch (one GROUP BY). */
  countRunsByBucket(from: number, bucketMs: number): Promise<RunBucketCount[]>;
  stats(now: number): Promise<StoreStats>;
  /** Cheap liveness check of the database. */
  ping(): Promise<void>;
}

/**
 * All SQL lives behind this interface, split by who uses it: the runner, the jobs service, the
 * jobs themselves (users) and the readers; none builds SQL itself. Each backend (SQLite,
 * PostgreSQL) implements it; errors it cannot recover from are `AppError("UNAVAILABLE")`
 * (database down, locked past the busy timeout, disk full).
 */
export interface Store extends RunnerStore, JobStore, UserStore, ReadStore, SettingsStore, ChangeLogStore {
  readonly backend: "sqlite" | "postgres";

  // --- several instances on one database (optional: the PostgreSQL store has them) ---
  /**
   * Calls `onChange` whenever jobs change through another instance sharing the database, and
   * after the listening connection reconnects (notices sent meanwhile are lost). Resolves once
   * listening; the function it answers stops it.
   */
  watchChanges?(onChange: () => void): Promise<() => Promise<void>>;
  /** Tells the other instances on the database that jobs changed (PostgreSQL: NOTIFY). */
  announceChange?(): void;
  /**
   * The database server's clock (ms since the epoch). When the store has one, the runtime's
   * clock follows it (`DbClock`), so hosts whose clocks disagree agree on when a job is due.
   */
  databaseNow?(): Promise<number>;

  close(): Promise<void>;
}
