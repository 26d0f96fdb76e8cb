import type { CronJobRecord, CronJobRunRecord, RunStatus, UserRecord } from "../../db/schema/sqlite.ts";

export type { CronJobRecord, CronJobRunRecord, RunStatus, UserRecord };

/** `last_error` of a job claimed again after its previous run's lease expired unfinished. */
export const LEASE_EXPIRED_ERROR = "the previous run did not finish before its lease expired (process crashed or was killed)";

/** The row change that ends one run, decided by the runner, applied by the store. */
export type FinishChange =
  | { kind: "delete" }
  | {
      kind: "update";
      isActive: boolean;
      attempts: number;
      lastError: string | null;
      lastRunAt: Date | null;
      nextRunAt: Date | null;
      /** Keep the lease until it expires: the run may still be going (it ignored its abort). */
      keepLease: boolean;
    };

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
  now: number;
  limit: number;
  /** Added to each job's `timeout_seconds` to make its lease. */
  leaseMarginMs: number;
}

/** The columns a job is written with; the jobs service validates and derives them. */
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
}

export interface Page<T> {
  items: T[];
  nextCursor: number | null;
}

export type JobState = "active" | "paused" | "dead" | "running";

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

export interface StoreStats {
  jobs: number;
  active: number;
  due: number;
  running: number;
  paused: number;
  dead: number;
}

export interface NewUser {
  email: string;
  status: "pending" | "active";
  passwordHash: string | null;
  registrationTokenHash: string | null;
}

/**
 * All SQL lives behind this interface: the runner, the jobs, the control plane and the
 * scripts ask it to claim, finish and prune, and never build SQL themselves. Each backend
 * (SQLite, PostgreSQL) implements it; errors it cannot recover from are
 * `AppError("UNAVAILABLE")` (database down, locked past the busy timeout, disk full).
 */
export interface Store {
  readonly backend: "sqlite" | "postgres";

  // --- the runner's hot path ---
  /** Active rows without `next_run_at` (written by hand), oldest first, found by index. */
  listUnscheduled(limit: number): Promise<CronJobRecord[]>;
  /** Sets `next_run_at` of a row still unscheduled; or deactivates it with `error`. */
  scheduleRow(id: number, next: { nextRunAt: Date } | { error: string }, now: number): Promise<void>;
  /** Atomically leases up to `limit` due jobs (ordered by `next_run_at`), counting an attempt. */
  claimDue(options: ClaimOptions): Promise<CronJobRecord[]>;
  /** Leases one job now, if it is active and not leased: `jobs.runNow` goes through this. */
  claimOne(id: number, options: Omit<ClaimOptions, "limit">): Promise<CronJobRecord | undefined>;
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

  // --- management ---
  getJob(id: number): Promise<CronJobRecord | undefined>;
  findJob(name: string, userId: number | null): Promise<CronJobRecord | undefined>;
  listJobs(filter: JobFilter, now: number): Promise<Page<CronJobRecord>>;
  /** Throws `AppError("CONFLICT")` when `(name, userId)` exists. */
  insertJob(values: JobValues, now: number): Promise<CronJobRecord>;
  /** Inserts, or updates the row with the same `(name, userId)`. */
  upsertJob(values: JobValues, now: number): Promise<CronJobRecord>;
  updateJob(id: number, values: Partial<JobValues> & { attempts?: number; lastError?: string | null }, now: number): Promise<CronJobRecord | undefined>;
  deleteJob(id: number): Promise<boolean>;
  listRuns(filter: RunFilter): Promise<Page<CronJobRunRecord>>;
  stats(now: number): Promise<StoreStats>;
  /** Cheap liveness check of the database. */
  ping(): Promise<void>;

  // --- users domain ---
  insertUser(user: NewUser, now: number): Promise<UserRecord>;
  getUser(id: number): Promise<UserRecord | undefined>;
  getUserByEmail(email: string): Promise<UserRecord | undefined>;
  updateUser(id: number, values: Partial<Omit<UserRecord, "id" | "createdAt">>, now: number): Promise<UserRecord | undefined>;
  /** Deletes the user only while still `pending`; their jobs go by cascade. */
  deletePendingUser(id: number): Promise<boolean>;

  // --- several instances on one database (optional: the PostgreSQL store has them) ---
  /**
   * Calls `onChange` whenever jobs change through any instance sharing the database (created,
   * updated, resumed, deleted, leases released), and after the listening connection reconnects
   * (notices sent meanwhile are lost). Resolves once listening; the function it answers stops it.
   * The server pokes its timer with it, so a job created on one host starts on time on another.
   */
  watchChanges?(onChange: () => void): Promise<() => Promise<void>>;
  /**
   * The database server's clock (ms since the epoch). When the store has one, the runtime's
   * clock follows it (`DbClock`), so hosts whose clocks disagree agree on when a job is due.
   */
  databaseNow?(): Promise<number>;

  close(): Promise<void>;
}
