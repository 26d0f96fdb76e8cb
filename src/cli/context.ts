import type { CronJob } from "../jobs/cron-job.ts";

/**
 * What the program that runs the CLI gives its commands: the `app` binary gives nothing, a
 * team's own binary (`main({ jobs })` of `cronjobs/server`) its job types. Set once by
 * `runCli` before any command loads; the commands are loaded lazily, so they read it here
 * rather than through citty. Type imports only: `app cron-runner` loads this every minute.
 */
export interface CliContext {
  /** Job types registered beside the built-ins by every command that runs jobs. */
  jobs: readonly CronJob<any>[];
}

let current: CliContext = { jobs: [] };

export function setCliContext(context: CliContext): void {
  current = context;
}

export function cliContext(): CliContext {
  return current;
}
