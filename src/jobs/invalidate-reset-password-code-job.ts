import type { CronJob, JobContext } from "./cron-job.ts";

/**
 * Clears a user's reset-password code once it expired. Scheduled at the code's expiry when a
 * reset is requested; a code requested again later has a later expiry and is left alone.
 */
export class InvalidateResetPasswordCodeJob implements CronJob {
  readonly type = "invalidate_reset_password_code";
  readonly description = "Clears the user's reset-password code and its expiry once it has expired.";

  async run({ job, users, clock, log }: JobContext): Promise<void> {
    if (job.userId === null) throw new Error("this job needs a user_id");
    const user = await users.getUser(job.userId);
    if (!user || user.resetPasswordCodeHash === null) return;
    const expiresAt = user.resetPasswordCodeExpiresAt?.getTime() ?? 0;
    if (expiresAt > clock.now()) return;
    await users.updateUser(user.id, { resetPasswordCodeHash: null, resetPasswordCodeExpiresAt: null }, clock.now());
    log(`cleared the reset-password code of user ${user.id}`);
  }
}
