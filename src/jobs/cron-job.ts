import type { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { CronJobRecord, Store } from "../store/store.ts";

/** What a job's `run` gets: its row, its parsed payload, the database and the means to stop. */
export interface JobContext<P = unknown> {
  job: CronJobRecord;
  payload: P;
  /** The database, behind the store interface (the same on SQLite and PostgreSQL). */
  db: Store;
  logger: Logger;
  clock: Clock;
  /** Aborts when the job's timeout passes or the process shuts down. */
  signal: AbortSignal;
  /** Adds a line to this run's output (SPEC §3.2). */
  log(message: string): void;
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
