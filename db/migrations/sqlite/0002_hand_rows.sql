-- Rows written by hand are first-class (SPEC §2, §4).
-- A one-time or interval row inserted with a usable run_at is due at it from its insert, so a
-- server only has to notice it; cron rows (and rows whose values the server must judge) keep
-- next_run_at NULL and the server derives it. 8640000000000000 ms is the range of a JS Date, and
-- 144000000000 minutes the largest interval whose slot stays inside it.
CREATE TRIGGER `cron_jobs_hand_insert` AFTER INSERT ON `cron_jobs`
WHEN NEW.`next_run_at` IS NULL AND NEW.`is_active` = 1 AND NEW.`cron` IS NULL AND NEW.`run_at` IS NOT NULL
  AND NEW.`run_at` BETWEEN -8640000000000000 AND 8640000000000000
  AND (NEW.`interval_minutes` IS NULL OR NEW.`interval_minutes` <= 144000000000)
BEGIN
  UPDATE `cron_jobs` SET `next_run_at` = NEW.`run_at` WHERE `id` = NEW.`id`;
END;
--> statement-breakpoint
-- A hand UPDATE of a schedule column that leaves next_run_at as it was clears it, so the server
-- derives it again from the new schedule. The app's own connections (which write next_run_at
-- together with the schedule, and change is_active when a run ends) attach a database named
-- cronjobs_writer, and are left alone.
CREATE TRIGGER `cron_jobs_hand_update` AFTER UPDATE OF `run_at`, `interval_minutes`, `cron`, `timezone`, `is_active` ON `cron_jobs`
WHEN NEW.`next_run_at` IS NOT NULL AND NEW.`next_run_at` IS OLD.`next_run_at`
  AND (NEW.`run_at` IS NOT OLD.`run_at` OR NEW.`interval_minutes` IS NOT OLD.`interval_minutes` OR NEW.`cron` IS NOT OLD.`cron`
    OR NEW.`timezone` IS NOT OLD.`timezone` OR NEW.`is_active` IS NOT OLD.`is_active`)
  AND NOT EXISTS (SELECT 1 FROM pragma_database_list WHERE `name` = 'cronjobs_writer')
BEGIN
  UPDATE `cron_jobs` SET `next_run_at` = NULL WHERE `id` = NEW.`id`;
END;
