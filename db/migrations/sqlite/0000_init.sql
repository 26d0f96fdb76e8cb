CREATE TABLE `cron_job_runs` (
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
	`attempt` integer NOT NULL,
	`run_id` text NOT NULL,
	`runner` text NOT NULL,
	CONSTRAINT "cron_job_runs_status_check" CHECK("cron_job_runs"."status" in ('succeeded', 'failed', 'timed_out'))
);
--> statement-breakpoint
CREATE INDEX `cron_job_runs_job_idx` ON `cron_job_runs` (`job_id`,`id`);--> statement-breakpoint
CREATE INDEX `cron_job_runs_finished_idx` ON `cron_job_runs` (`finished_at`);--> statement-breakpoint
CREATE TABLE `cron_jobs` (
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
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "cron_jobs_schedule_check" CHECK("cron_jobs"."run_at" is not null or "cron_jobs"."interval_minutes" is not null or "cron_jobs"."cron" is not null),
	CONSTRAINT "cron_jobs_one_recurrence_check" CHECK("cron_jobs"."interval_minutes" is null or "cron_jobs"."cron" is null),
	CONSTRAINT "cron_jobs_interval_check" CHECK("cron_jobs"."interval_minutes" is null or "cron_jobs"."interval_minutes" >= 1),
	CONSTRAINT "cron_jobs_timeout_check" CHECK("cron_jobs"."timeout_seconds" >= 1),
	CONSTRAINT "cron_jobs_max_attempts_check" CHECK("cron_jobs"."max_attempts" >= 1),
	CONSTRAINT "cron_jobs_attempts_check" CHECK("cron_jobs"."attempts" >= 0),
	CONSTRAINT "cron_jobs_types_check" CHECK(typeof("cron_jobs"."run_at") in ('integer', 'null') and typeof("cron_jobs"."next_run_at") in ('integer', 'null') and typeof("cron_jobs"."interval_minutes") in ('integer', 'null'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cron_jobs_name_user_key` ON `cron_jobs` (`name`,(case when "user_id" is null then 0 else "user_id" end));--> statement-breakpoint
CREATE INDEX `cron_jobs_due_idx` ON `cron_jobs` (`next_run_at`) WHERE "cron_jobs"."is_active" = 1;--> statement-breakpoint
CREATE INDEX `cron_jobs_user_idx` ON `cron_jobs` (`user_id`);--> statement-breakpoint
CREATE INDEX `cron_jobs_leased_idx` ON `cron_jobs` (`locked_until`) WHERE "cron_jobs"."locked_by" is not null;--> statement-breakpoint
CREATE INDEX `cron_jobs_inactive_idx` ON `cron_jobs` (`id`) WHERE "cron_jobs"."is_active" = 0;--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`status` text NOT NULL,
	`password_hash` text,
	`registration_token_hash` text,
	`reset_password_code_hash` text,
	`reset_password_code_expires_at` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	CONSTRAINT "users_status_check" CHECK("users"."status" in ('pending', 'active')),
	CONSTRAINT "users_email_lower_check" CHECK("users"."email" = lower("users"."email"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);