-- Rows written by hand are first-class (SPEC §2, §4). The app's own connections say who they
-- are with the setting cronjobs.writer = 'app' (src/store/pg-open.ts): they announce their own
-- changes, and write next_run_at together with the schedule.

-- A one-time or interval row inserted with a usable run_at is due at it from its insert; cron
-- rows (and rows whose values the server must judge) keep next_run_at NULL for the server.
-- 275760-09-13 is the last instant a JS Date holds.
CREATE FUNCTION "cron_jobs_hand_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."next_run_at" := NEW."run_at";
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER "cron_jobs_hand_insert" BEFORE INSERT ON "cron_jobs" FOR EACH ROW
WHEN (NEW."next_run_at" IS NULL AND NEW."is_active" AND NEW."cron" IS NULL AND isfinite(NEW."run_at")
  AND NEW."run_at" <= timestamptz '275760-09-13 00:00:00+00')
EXECUTE FUNCTION "cron_jobs_hand_insert"();
--> statement-breakpoint
-- A hand UPDATE of a schedule column that leaves next_run_at as it was clears it, so the server
-- derives it again from the new schedule.
CREATE FUNCTION "cron_jobs_hand_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."next_run_at" := NULL;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER "cron_jobs_hand_update" BEFORE UPDATE OF "run_at", "interval_minutes", "cron", "timezone", "is_active" ON "cron_jobs" FOR EACH ROW
WHEN (OLD."next_run_at" IS NOT NULL AND NEW."next_run_at" IS NOT DISTINCT FROM OLD."next_run_at"
  AND (NEW."run_at", NEW."interval_minutes", NEW."cron", NEW."timezone", NEW."is_active")
    IS DISTINCT FROM (OLD."run_at", OLD."interval_minutes", OLD."cron", OLD."timezone", OLD."is_active")
  AND current_setting('cronjobs.writer', true) IS DISTINCT FROM 'app')
EXECUTE FUNCTION "cron_jobs_hand_update"();
--> statement-breakpoint
-- Every server listening hears inserts and updates by other writers: one notice per statement
-- (a 100,000-row insert sends one), none for the app's own claims and finishes.
CREATE FUNCTION "cron_jobs_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('cronjobs_changed', 'cron_jobs');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "cron_jobs_notify_change" AFTER INSERT OR UPDATE ON "cron_jobs" FOR EACH STATEMENT
WHEN (current_setting('cronjobs.writer', true) IS DISTINCT FROM 'app')
EXECUTE FUNCTION "cron_jobs_notify_change"();
