import type { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { CronJobRecord, UserStore } from "../store/store.ts";

/**
 * What a job's `run` gets: its row, its parsed payload, the users it works on, a way to say
 * what it did, and the means to stop. Not the runner's claim or finish.
 */
export interface JobContext<P = unknown> {
  job: Readonly<CronJobRecord>;
  payload: P;
  /** The users domain (the same on SQLite and PostgreSQL). */
  users: UserStore;
  /** Process log (stderr), for operators. */
  logger: Logger;
  /** Adds a line to this run's output, stored with its history row (at most 64 KiB). */
  log(message: string): void;
  clock: Clock;
  /**
   * Aborts when the job's timeout passes, `jobs.cancel` stops the run, or the process shuts down.
   * Made on first use (a getter of the context): read it from the context itself, not from a
   * spread copy of it.
   */
  signal: AbortSignal;
  /** Extends this run's lease by `ms` from now (default: the job's timeout); false once it was lost. */
  heartbeat(ms?: number): Promise<boolean>;
}

/**
 * Code that runs a kind of job. A `cron_jobs` row names it by `job_type`. Runs are
 * at-least-once, so `run` must be idempotent: a second run with the same row changes nothing.
 */
export interface CronJob<P = unknown> {
  readonly type: string;
  readonly description: string;
  /** Validates the row's `payload` (JSON); without one the payload must be absent or null. */
  readonly payloadSchema?: z.ZodType<P>;
  run(ctx: JobContext<P>): Promise<void>;
}
