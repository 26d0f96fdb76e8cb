import type { CronJob } from "./cron-job.ts";
import { HttpJob } from "./http-job.ts";
import { InvalidatePendingRegistrationJob } from "./invalidate-pending-registration-job.ts";
import { InvalidateResetPasswordCodeJob } from "./invalidate-reset-password-code-job.ts";
import { NoopJob } from "./noop-job.ts";

/** Maps `job_type` to the code that runs it. */
export class JobRegistry {
  private readonly jobs = new Map<string, CronJob<any>>();

  constructor(jobs: Iterable<CronJob<any>> = []) {
    for (const job of jobs) this.register(job);
  }

  register(job: CronJob<any>): this {
    if (this.jobs.has(job.type)) throw new Error(`job type "${job.type}" is registered twice`);
    this.jobs.set(job.type, job);
    return this;
  }

  get(type: string): CronJob | undefined {
    return this.jobs.get(type);
  }

  list(): CronJob[] {
    return [...this.jobs.values()].sort((a, b) => a.type.localeCompare(b.type));
  }
}

/** What the built-ins need from the configuration. */
export interface BuiltinJobSettings {
  /** `JOB_SIGNING_SECRET`, the key of the `http` job's signatures (an Error: why there is none). */
  jobSigningSecret: string | Error;
  /** `HTTP_JOB_ALLOW`: the hosts `http` jobs may call; undefined: any. */
  httpJobAllow?: readonly string[] | undefined;
}

/**
 * The built-in jobs, listed here explicitly (nothing is found by scanning folders). `http` needs
 * its signing secret: without `settings` (tests of other parts) it is left out.
 */
export function builtinJobs(settings?: BuiltinJobSettings): CronJob<any>[] {
  const jobs: CronJob<any>[] = [new NoopJob(), new InvalidateResetPasswordCodeJob(), new InvalidatePendingRegistrationJob()];
  if (settings) jobs.push(new HttpJob({ signingSecret: settings.jobSigningSecret, allowHosts: settings.httpJobAllow }));
  return jobs;
}

/** The names of the built-in job types, `http` included. */
export function builtinJobTypes(): string[] {
  return [...builtinJobs().map((job) => job.type), HttpJob.TYPE];
}

/** The built-ins and the given job types beside them (a type registered twice is an error). */
export function defaultRegistry(jobs: Iterable<CronJob<any>> = [], settings?: BuiltinJobSettings): JobRegistry {
  return new JobRegistry([...builtinJobs(settings), ...jobs]);
}
