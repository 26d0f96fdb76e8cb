import type { CronJob } from "./cron-job.ts";

/** Does nothing and succeeds: for checking that scheduling works end to end. */
export class NoopJob implements CronJob {
  readonly type = "noop";
  readonly description = "Does nothing and succeeds.";
  async run(): Promise<void> {}
}
