CREATE TABLE `cron_job_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` integer,
	`action` text NOT NULL,
	`actor` text NOT NULL,
	`before` text,
	`after` text,
	`at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	CONSTRAINT "cron_job_changes_action_check" CHECK("action" in ('create', 'update', 'delete', 'pause', 'resume', 'run_now', 'retry', 'cancel', 'pause_all', 'resume_all'))
);
--> statement-breakpoint
CREATE INDEX `cron_job_changes_job_idx` ON `cron_job_changes` (`job_id`,`id`);--> statement-breakpoint
CREATE INDEX `cron_job_changes_at_idx` ON `cron_job_changes` (`at`);--> statement-breakpoint
CREATE TABLE `cron_settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_cron_job_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` integer NOT NULL,
	`name` text NOT NULL,
	`job_type` text NOT NULL,
	`user_id` integer,
	`scheduled_for` integer,
	`started_at` integer NOT NULL,
	`finished_at` integer NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`output` text,
	`attempt` integer NOT NULL,
	`run_id` text NOT NULL,
	`runner` text NOT NULL,
	CONSTRAINT "cron_job_runs_status_check" CHECK("__new_cron_job_runs"."status" in ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'))
);
--> statement-breakpoint
INSERT INTO `__new_cron_job_runs`("id", "job_id", "name", "job_type", "user_id", "scheduled_for", "started_at", "finished_at", "status", "error", "attempt", "run_id", "runner") SELECT "id", "job_id", "name", "job_type", "user_id", "scheduled_for", "started_at", "finished_at", "status", "error", "attempt", "run_id", "runner" FROM `cron_job_runs`;--> statement-breakpoint
DROP TABLE `cron_job_runs`;--> statement-breakpoint
ALTER TABLE `__new_cron_job_runs` RENAME TO `cron_job_runs`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `cron_job_runs_job_idx` ON `cron_job_runs` (`job_id`,`id`);--> statement-breakpoint
CREATE INDEX `cron_job_runs_finished_idx` ON `cron_job_runs` (`finished_at`);--> statement-breakpoint
CREATE TABLE `__new_cron_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`job_type` text NOT NULL,
	`user_id` integer,
	`run_at` integer,
	`interval_minutes` integer,
	`cron` text,
	`timezone` text,
	`is_active` integer DEFAULT true NOT NULL,
	`last_run_at` integer,
	`next_run_at` integer,
	`payload` text,
	`timeout_seconds` integer DEFAULT 60 NOT NULL,
	`max_attempts` integer DEFAULT 5 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`locked_by` text,
	`locked_until` integer,
	`crashes` integer DEFAULT 0 NOT NULL,
	`ended` text,
	`catch_up` text DEFAULT 'once' NOT NULL,
	`start_deadline_seconds` integer,
	`jitter_seconds` integer DEFAULT 0 NOT NULL,
	`ends_at` integer,
	`max_runs` integer,
	`run_count` integer DEFAULT 0 NOT NULL,
	`cancel_requested_at` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "cron_jobs_schedule_check" CHECK("__new_cron_jobs"."run_at" is not null or "__new_cron_jobs"."interval_minutes" is not null or "__new_cron_jobs"."cron" is not null),
	CONSTRAINT "cron_jobs_one_recurrence_check" CHECK("__new_cron_jobs"."interval_minutes" is null or "__new_cron_jobs"."cron" is null),
	CONSTRAINT "cron_jobs_interval_check" CHECK("__new_cron_jobs"."interval_minutes" is null or "__new_cron_jobs"."interval_minutes" >= 1),
	CONSTRAINT "cron_jobs_timeout_check" CHECK("__new_cron_jobs"."timeout_seconds" >= 1),
	CONSTRAINT "cron_jobs_max_attempts_check" CHECK("__new_cron_jobs"."max_attempts" >= 1),
	CONSTRAINT "cron_jobs_attempts_check" CHECK("__new_cron_jobs"."attempts" >= 0),
	CONSTRAINT "cron_jobs_crashes_check" CHECK("__new_cron_jobs"."crashes" >= 0),
	CONSTRAINT "cron_jobs_ended_check" CHECK("__new_cron_jobs"."ended" is null or "__new_cron_jobs"."ended" in ('dead', 'finished')),
	CONSTRAINT "cron_jobs_catch_up_check" CHECK("__new_cron_jobs"."catch_up" in ('once', 'skip', 'all')),
	CONSTRAINT "cron_jobs_start_deadline_check" CHECK("__new_cron_jobs"."start_deadline_seconds" is null or "__new_cron_jobs"."start_deadline_seconds" >= 1),
	CONSTRAINT "cron_jobs_jitter_check" CHECK("__new_cron_jobs"."jitter_seconds" >= 0),
	CONSTRAINT "cron_jobs_max_runs_check" CHECK("__new_cron_jobs"."max_runs" is null or "__new_cron_jobs"."max_runs" >= 1),
	CONSTRAINT "cron_jobs_types_check" CHECK(typeof("__new_cron_jobs"."run_at") in ('integer', 'null') and typeof("__new_cron_jobs"."next_run_at") in ('integer', 'null') and typeof("__new_cron_jobs"."interval_minutes") in ('integer', 'null'))
);
--> statement-breakpoint
INSERT INTO `__new_cron_jobs`("id", "name", "job_type", "user_id", "run_at", "interval_minutes", "cron", "timezone", "is_active", "last_run_at", "next_run_at", "payload", "timeout_seconds", "max_attempts", "attempts", "last_error", "locked_by", "locked_until", "created_at", "updated_at") SELECT "id", "name", "job_type", "user_id", "run_at", "interval_minutes", "cron", "timezone", "is_active", "last_run_at", "next_run_at", "payload", "timeout_seconds", "max_attempts", "attempts", "last_error", "locked_by", "locked_until", "created_at", "updated_at" FROM `cron_jobs`;--> statement-breakpoint
DROP TABLE `cron_jobs`;--> statement-breakpoint
ALTER TABLE `__new_cron_jobs` RENAME TO `cron_jobs`;--> statement-breakpoint
CREATE UNIQUE INDEX `cron_jobs_name_user_key` ON `cron_jobs` (`name`,(case when "user_id" is null then 0 else "user_id" end));--> statement-breakpoint
CREATE INDEX `cron_jobs_due_idx` ON `cron_jobs` (`next_run_at`) WHERE "cron_jobs"."is_active" = 1;--> statement-breakpoint
CREATE INDEX `cron_jobs_user_idx` ON `cron_jobs` (`user_id`);--> statement-breakpoint
CREATE INDEX `cron_jobs_leased_idx` ON `cron_jobs` (`locked_until`) WHERE "cron_jobs"."locked_until" is not null;--> statement-breakpoint
CREATE INDEX `cron_jobs_inactive_idx` ON `cron_jobs` (`id`) WHERE "cron_jobs"."is_active" = 0;