import type { CronJob } from "./cron-job.ts";
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

/** The built-in jobs, listed here explicitly (nothing is found by scanning folders). */
export function builtinJobs(): CronJob<any>[] {
  return [new NoopJob(), new InvalidateResetPasswordCodeJob(), new InvalidatePendingRegistrationJob()];
}

/** The built-ins and the given job types beside them (a type registered twice is an error). */
export function defaultRegistry(jobs: Iterable<CronJob<any>> = []): JobRegistry {
  return new JobRegistry([...builtinJobs(), ...jobs]);
}
