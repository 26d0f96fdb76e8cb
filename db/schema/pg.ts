import { sql } from "drizzle-orm";
import { CHANGE_ACTIONS } from "./sqlite.ts";
import { bigint, boolean, check, index, integer, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";

/**
 * The PostgreSQL twin of `sqlite.ts`: the same tables, columns, constraints and indexes, so
 * the store returns the same `CronJobRecord` shape on both backends. Times are `timestamptz(3)`
 * (millisecond instants, like SQLite's integers); ids are identities, never reused.
 */
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });
const id = () => bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity();

export const users = pgTable("users", {
  id: id(),
  email: text("email").notNull().unique(),
  status: text("status", { enum: ["pending", "active"] }).notNull(),
  passwordHash: text("password_hash"),
  registrationTokenHash: text("registration_token_hash"),
  resetPasswordCodeHash: text("reset_password_code_hash"),
  resetPasswordCodeExpiresAt: instant("reset_password_code_expires_at"),
  createdAt: instant("created_at").notNull().defaultNow(),
  updatedAt: instant("updated_at").notNull().defaultNow(),
}, (t) => [
  check("users_status_check", sql`${t.status} in ('pending', 'active')`),
  check("users_email_lower_check", sql`${t.email} = lower(${t.email})`),
]);

export const cronJobs = pgTable("cron_jobs", {
  id: id(),
  name: text("name").notNull(),
  jobType: text("job_type").notNull(),
  userId: bigint("user_id", { mode: "number" }).references(() => users.id, { onDelete: "cascade" }),
  runAt: instant("run_at"),
  intervalMinutes: integer("interval_minutes"),
  cron: text("cron"),
  timezone: text("timezone"),
  isActive: boolean("is_active").notNull().default(true),
  lastRunAt: instant("last_run_at"),
  nextRunAt: instant("next_run_at"),
  // JSON text, as on SQLite: parsed by the runner so that a bad hand-written value fails one job, not the tick.
  payload: text("payload"),
  timeoutSeconds: integer("timeout_seconds").notNull().default(60),
  maxAttempts: integer("max_attempts").notNull().default(5),
  attempts: integer("attempts").notNull().default(0),
  lastError: text("last_error"),
  lockedBy: text("locked_by"),
  lockedUntil: instant("locked_until"),
  crashes: integer("crashes").notNull().default(0),
  ended: text("ended", { enum: ["dead", "finished"] }),
  catchUp: text("catch_up", { enum: ["once", "skip", "all"] }).notNull().default("once"),
  startDeadlineSeconds: integer("start_deadline_seconds"),
  jitterSeconds: integer("jitter_seconds").notNull().default(0),
  endsAt: instant("ends_at"),
  maxRuns: integer("max_runs"),
  runCount: integer("run_count").notNull().default(0),
  cancelRequestedAt: instant("cancel_requested_at"),
  createdAt: instant("created_at").notNull().defaultNow(),
  updatedAt: instant("updated_at").notNull().defaultNow(),
}, (t) => [
  // A NULL user_id counts as one value (PostgreSQL 15+).
  unique("cron_jobs_name_user_key").on(t.name, t.userId).nullsNotDistinct(),
  // Finding due jobs is a range scan over this index.
  index("cron_jobs_due_idx").on(t.nextRunAt).where(sql`${t.isActive}`),
  // Rows written by hand without next_run_at are found without a table scan.
  index("cron_jobs_unscheduled_idx").on(t.id).where(sql`${t.nextRunAt} is null`),
  index("cron_jobs_user_idx").on(t.userId),
  // Small partial indexes for the gauges and the timer: leases (live or kept after a run that ignored its abort) and inactive jobs.
  index("cron_jobs_leased_idx").on(t.lockedUntil).where(sql`${t.lockedUntil} is not null`),
  index("cron_jobs_inactive_idx").on(t.id).where(sql`not ${t.isActive}`),
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
]);

export const cronJobRuns = pgTable("cron_job_runs", {
  id: id(),
  // No foreign key: one-time jobs are deleted after their run, the history stays.
  jobId: bigint("job_id", { mode: "number" }).notNull(),
  name: text("name").notNull(),
  jobType: text("job_type").notNull(),
  userId: bigint("user_id", { mode: "number" }),
  scheduledFor: instant("scheduled_for"),
  startedAt: instant("started_at").notNull(),
  finishedAt: instant("finished_at").notNull(),
  status: text("status", { enum: ["succeeded", "failed", "timed_out", "cancelled", "skipped"] }).notNull(),
  error: text("error"),
  output: text("output"),
  attempt: integer("attempt").notNull(),
  runId: text("run_id").notNull(),
  runner: text("runner").notNull(),
}, (t) => [
  index("cron_job_runs_job_idx").on(t.jobId, t.id),
  index("cron_job_runs_finished_idx").on(t.finishedAt),
  check("cron_job_runs_status_check", sql`${t.status} in ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')`),
]);

export const cronJobChanges = pgTable("cron_job_changes", {
  id: id(),
  jobId: bigint("job_id", { mode: "number" }),
  action: text("action", { enum: CHANGE_ACTIONS }).notNull(),
  actor: text("actor").notNull(),
  before: text("before"),
  after: text("after"),
  at: instant("at").notNull().defaultNow(),
}, (t) => [
  index("cron_job_changes_job_idx").on(t.jobId, t.id),
  index("cron_job_changes_at_idx").on(t.at),
  check("cron_job_changes_action_check", sql.raw(`"action" in (${CHANGE_ACTIONS.map((a) => `'${a}'`).join(", ")})`)),
]);

export const cronSettings = pgTable("cron_settings", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  updatedAt: instant("updated_at").notNull().defaultNow(),
});
