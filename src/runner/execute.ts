import { z } from "zod";
import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { CronJob, JobContext } from "../jobs/cron-job.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { Logger } from "../logger.ts";
import { scheduleOf, type Schedule } from "../schedule/schedule.ts";
import { LEASE_EXPIRED_ERROR, type CronJobRecord, type Store } from "../store/store.ts";
import type { RunOutcome } from "./outcome.ts";

export interface ExecuteDeps {
  store: Store;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  leaseMarginMs: number;
  /** How long a timed-out job gets to settle after its signal aborts before the runner moves on. */
  abortGraceMs: number;
}

/**
 * The runs in flight, each with the function that aborts it: a shutdown aborts them all.
 * (A set, not a listener per run on one AbortSignal: at thousands of runs a second the
 * listeners cost more than the runs.)
 */
export class InFlight {
  private readonly aborts = new Set<(reason: unknown) => void>();
  private stopReason: unknown;

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  stop(reason: unknown): void {
    this.stopReason ??= reason;
    for (const abort of this.aborts) abort(reason);
  }

  /** Registers `abort` while `work` runs (aborting at once if already stopped). */
  add(abort: (reason: unknown) => void): () => void {
    if (this.stopReason !== undefined) abort(this.stopReason);
    this.aborts.add(abort);
    return () => this.aborts.delete(abort);
  }
}

/** A claimed job made ready to run, or the reason it cannot run. */
export type Prepared =
  | { ok: true; job: CronJob; schedule: Schedule; payload: unknown }
  | { ok: false; schedule: Schedule | null; error: string };

/**
 * Checks that a claimed row can run: known type, usable schedule and payload, not crash-looping.
 * `crashes`: how many claims in a row before this one ended with their lease expiring unfinished
 * (by default every earlier claim counted in `attempts`).
 */
export function prepare(record: CronJobRecord, registry: JobRegistry, crashes = record.attempts - 1): Prepared {
  let schedule: Schedule;
  try {
    schedule = scheduleOf(record);
  } catch (err) {
    return { ok: false, schedule: null, error: `invalid schedule: ${errorMessage(err)}` };
  }
  const job = registry.get(record.jobType);
  if (!job) return { ok: false, schedule: null, error: `unknown job_type "${record.jobType}": no CronJob is registered under this name` };
  // A one-time job has `max_attempts` attempts in all; a recurring one stops only when its runs
  // died with their process that many times in a row (its failures never deactivate it).
  const givesUp = schedule.kind === "once"
    ? record.attempts > record.maxAttempts
    : record.lastError === LEASE_EXPIRED_ERROR && crashes >= record.maxAttempts;
  if (givesUp) {
    return { ok: false, schedule: null, error: `gave up after ${record.maxAttempts} attempts: ${record.lastError ?? "runs did not finish"}` };
  }
  let payload: unknown = null;
  if (record.payload !== null) {
    try {
      payload = JSON.parse(record.payload);
    } catch {
      return { ok: false, schedule: null, error: "invalid payload: not valid JSON" };
    }
  }
  if (job.payloadSchema) {
    const parsed = job.payloadSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, schedule: null, error: `invalid payload: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}` };
    payload = parsed.data;
  }
  return { ok: true, job, schedule, payload };
}

class TimeoutError extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
    this.name = "TimeoutError";
  }
}

/**
 * Runs one prepared job under its timeout. Never throws: a failing job is an outcome.
 * A shutdown (`inFlight.stop`) aborts the job too; the caller then releases its lease instead
 * of recording it.
 */
export async function execute(
  deps: ExecuteDeps, record: CronJobRecord, runId: string, job: CronJob, payload: unknown, inFlight: InFlight,
): Promise<RunOutcome> {
  const startedAt = deps.clock.now();
  const timeoutMs = record.timeoutSeconds * 1000;
  // The signal is made on first use: most jobs finish without ever looking at it.
  let controller: AbortController | undefined;
  let abortReason: unknown;
  let wake!: () => void;
  const aborted = new Promise<undefined>((resolve) => { wake = () => resolve(undefined); });
  const abort = (reason: unknown) => {
    if (abortReason !== undefined) return;
    abortReason = reason;
    controller?.abort(reason);
    wake();
  };
  const forget = inFlight.add(abort);
  const timer = setTimeout(() => abort(new TimeoutError(record.timeoutSeconds)), timeoutMs);

  let settled = false;
  const ctx: JobContext = {
    job: record, payload, db: deps.store, logger: deps.logger, clock: deps.clock,
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (abortReason !== undefined) controller.abort(abortReason);
      }
      return controller.signal;
    },
    heartbeat: (ms = timeoutMs) => deps.store.extendLease(record.id, runId, deps.clock.now() + ms + deps.leaseMarginMs),
  };
  const running = (async () => job.run(ctx))().then(
    () => null,
    (err: unknown) => errorMessage(err),
  ).finally(() => { settled = true; });

  try {
    const first = await Promise.race([running, aborted]);
    if (first !== undefined && abortReason === undefined) {
      return { status: first === null ? "succeeded" : "failed", error: first, startedAt, unusable: false, settled: true };
    }
    // Aborted: give the job a moment to wind down, then record it even if it never settles.
    await Promise.race([running, Bun.sleep(deps.abortGraceMs)]);
    const timedOut = abortReason instanceof TimeoutError;
    const error = timedOut ? (abortReason as TimeoutError).message : `aborted: ${errorMessage(abortReason)}`;
    return { status: timedOut ? "timed_out" : "failed", error, startedAt, unusable: false, settled };
  } finally {
    clearTimeout(timer);
    forget();
  }
}
