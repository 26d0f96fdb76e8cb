import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** What `cron_job_changes.action` may say (SPEC §2). */
export const CHANGE_ACTIONS = ["create", "update", "delete", "pause", "resume", "run_now", "retry", "cancel", "pause_all", "resume_all"] as const;

/** Milliseconds since the epoch, computed by SQLite itself (julianday keeps the milliseconds). */
const nowMs = sql`(cast((julianday('now') - 2440587.5) * 86400000 as integer))`;

export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  email: text("email").notNull().unique(),
  status: text("status", { enum: ["pending", "active"] }).notNull(),
  passwordHash: text("password_hash"),
  registrationTokenHash: text("registration_token_hash"),
  resetPasswordCodeHash: text("reset_password_code_hash"),
  resetPasswordCodeExpiresAt: integer("reset_password_code_expires_at", { mode: "timestamp_ms" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull().default(nowMs),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull().default(nowMs),
}, (t) => [
  check("users_status_check", sql`${t.status} in ('pending', 'active')`),
  check("users_email_lower_check", sql`${t.email} = lower(${t.email})`),
]);

export const cronJobs = sqliteTable("cron_jobs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  jobType: text("job_type").notNull(),
  userId: integer("user_id").references(() => users.id, { onDelete: "cascade" }),
  runAt: integer("run_at", { mode: "timestamp_ms" }),
  intervalMinutes: integer("interval_minutes"),
  cron: text("cron"),
  timezone: text("timezone"),
  isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
  lastRunAt: integer("last_run_at", { mode: "timestamp_ms" }),
  nextRunAt: integer("next_run_at", { mode: "timestamp_ms" }),
  // JSON text; parsed by the runner so that a bad hand-written value fails one job, not the tick.
  payload: text("payload"),
  timeoutSeconds: integer("timeout_seconds").notNull().default(60),
  maxAttempts: integer("max_attempts").notNull().default(5),
  attempts: integer("attempts").notNull().default(0),
  lastError: text("last_error"),
  lockedBy: text("locked_by"),
  lockedUntil: integer("locked_until", { mode: "timestamp_ms" }),
  // Claims in a row whose run never finished (the process died): counted at claim, cleared by a finish.
  crashes: integer("crashes").notNull().default(0),
  // Why an inactive job is not merely paused: `dead` (gave up) or `finished` (ends_at / max_runs reached).
  ended: text("ended", { enum: ["dead", "finished"] }),
  // Schedule policies (SPEC §5.3.1); defaults keep rows written by hand valid.
  catchUp: text("catch_up", { enum: ["once", "skip", "all"] }).notNull().default("once"),
  startDeadlineSeconds: integer("start_deadline_seconds"),
  jitterSeconds: integer("jitter_seconds").notNull().default(0),
  endsAt: integer("ends_at", { mode: "timestamp_ms" }),
  maxRuns: integer("max_runs"),
  /** Runs finished so far, any status (for `max_runs`). */
  runCount: integer("run_count").notNull().default(0),
  /** Set by `jobs.cancel` while a run holds the lease; the runner holding it aborts the run. */
  cancelRequestedAt: integer("cancel_requested_at", { mode: "timestamp_ms" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull().default(nowMs),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull().default(nowMs),
}, (t) => [
  // A NULL user_id counts as one value: ids start at 1, so 0 never names a user.
  uniqueIndex("cron_jobs_name_user_key").on(t.name, sql`(case when ${t.userId} is null then 0 else ${t.userId} end)`),
  // Finding due jobs is a range scan over this index; rows written by hand without
  // next_run_at are found through it too (next_run_at IS NULL is an index search).
  index("cron_jobs_due_idx").on(t.nextRunAt).where(sql`${t.isActive} = 1`),
  index("cron_jobs_user_idx").on(t.userId),
  // Small partial indexes for the gauges and the timer: leases (live or kept after a run that ignored its abort) and inactive jobs.
  index("cron_jobs_leased_idx").on(t.lockedUntil).where(sql`${t.lockedUntil} is not null`),
  index("cron_jobs_inactive_idx").on(t.id).where(sql`${t.isActive} = 0`),
  check("cron_jobs_schedule_check", sql`${t.runAt} is not null or ${t.intervalMinutes} is not null or ${t.cron} is not null`),
  check("cron_jobs_one_recurrence_check", sql`${t.intervalMinutes} is null or ${t.cron} is null`),
  check("cron_jobs_interval_check", sql`${t.intervalMinutes} is null or ${t.intervalMinutes} >= 1`),
  check("cron_jobs_timeout_check", sql`${t.timeoutSeconds} >= 1`),
  check("cron_jobs_max_attempts_check", sql`${t.maxAttempts} >= 1`),
  check("cron_jobs_attempts_check", sql`${t.attempts} >= 0`),
  check("cron_jobs_crashes_check", sql`${t.crashes} >= 0`),
  check("cron_jobs_ended_check", sql`${t.ended} is null or ${t.ended} in ('dead', 'finished')`),
  check("cron_jobs_catch_up_check", sql`${t.catchUp} in ('once', 'skip', 'all')`),
  check("cron_jobs_start_deadline_check", sql`${t.startDeadlineSeconds} is null or ${t.startDeadlineSeconds} >= 1`),
  check("cron_jobs_jitter_check", sql`${t.jitterSeconds} >= 0`),
  check("cron_jobs_max_runs_check", sql`${t.maxRuns} is null or ${t.maxRuns} >= 1`),
  // SQLite is dynamically typed: keep hand-written times and intervals integers.
  check("cron_jobs_types_check", sql`typeof(${t.runAt}) in ('integer', 'null') and typeof(${t.nextRunAt}) in ('integer', 'null') and typeof(${t.intervalMinutes}) in ('integer', 'null')`),
]);

export const cronJobRuns = sqliteTable("cron_job_runs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  // No foreign key: one-time jobs are deleted after their run, the history stays.
  jobId: integer("job_id").notNull(),
  name: text("name").notNull(),
  jobType: text("job_type").notNull(),
  userId: integer("user_id"),
  scheduledFor: integer("scheduled_for", { mode: "timestamp_ms" }),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  finishedAt: integer("finished_at", { mode: "timestamp_ms" }).notNull(),
  status: text("status", { enum: ["succeeded", "failed", "timed_out", "cancelled", "skipped"] }).notNull(),
  error: text("error"),
  /** What the run said (`ctx.log` lines, an `http` job's answer), at most 64 KiB. */
  output: text("output"),
  attempt: integer("attempt").notNull(),
  runId: text("run_id").notNull(),
  runner: text("runner").notNull(),
}, (t) => [
  index("cron_job_runs_job_idx").on(t.jobId, t.id),
  index("cron_job_runs_finished_idx").on(t.finishedAt),
  check("cron_job_runs_status_check", sql`${t.status} in ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')`),
]);

/** The audit log: one row per change made through the control plane or the dashboard. */
export const cronJobChanges = sqliteTable("cron_job_changes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  // No foreign key: the log outlives deleted jobs; NULL for changes to all jobs (pause_all).
  jobId: integer("job_id"),
  action: text("action", { enum: CHANGE_ACTIONS }).notNull(),
  actor: text("actor").notNull(),
  before: text("before"),
  after: text("after"),
  at: integer("at", { mode: "timestamp_ms" }).notNull().default(nowMs),
}, (t) => [
  index("cron_job_changes_job_idx").on(t.jobId, t.id),
  index("cron_job_changes_at_idx").on(t.at),
  check("cron_job_changes_action_check", sql.raw(`"action" in (${CHANGE_ACTIONS.map((a) => `'${a}'`).join(", ")})`)),
]);

/** Settings shared by every server on the database (`paused`: pause all). */
export const cronSettings = sqliteTable("cron_settings", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull().default(nowMs),
});

/** A `cron_jobs` row: data, as opposed to the `CronJob` code that runs it. */
export type CronJobRecord = typeof cronJobs.$inferSelect;
export type CronJobInsert = typeof cronJobs.$inferInsert;
export type CronJobRunRecord = typeof cronJobRuns.$inferSelect;
export type UserRecord = typeof users.$inferSelect;
export type RunStatus = CronJobRunRecord["status"];
export type CronJobChangeRecord = typeof cronJobChanges.$inferSelect;
