import type { CronJob, JobContext } from "./cron-job.ts";

/**
 * Deletes a registration never confirmed: the user goes if still `pending` (their jobs with
 * them, by cascade); an `active` user is left alone. Scheduled at the registration deadline.
 */
export class InvalidatePendingRegistrationJob implements CronJob {
  readonly type = "invalidate_pending_registration";
  readonly description = "Deletes the user if their registration is still pending; an active user is left alone.";

  async run({ job, users, log }: JobContext): Promise<void> {
    if (job.userId === null) throw new Error("this job needs a user_id");
    log(await users.deletePendingUser(job.userId) ? `deleted pending user ${job.userId}` : `user ${job.userId} is not pending: left alone`);
  }
}
