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

/** A run in flight: when its time is up (`performance.now()` ms) and how to abort it. */
interface Running {
  deadline: number;
  abort(reason: unknown): void;
  timeOut(): void;
}

/**
 * The runs in flight. One timer, armed for the earliest deadline, times them all out, and a
 * shutdown (`stop`) aborts them all: at thousands of runs a second a timer or an abort
 * listener per run costs more than the runs.
 */
export class InFlight {
  private readonly runs = new Set<Running>();
  private stopReason: unknown;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  stop(reason: unknown): void {
    this.stopReason ??= reason;
    for (const run of this.runs) run.abort(reason);
  }

  /** Tracks `run` until `remove`; aborts it at once if already stopped. */
  add(run: Running): void {
    if (this.stopReason !== undefined) run.abort(this.stopReason);
    this.runs.add(run);
    if (run.deadline < this.timerAt) this.arm(run.deadline);
  }

  remove(run: Running): void {
    this.runs.delete(run);
    // Nothing left to time out: no timer may keep the process alive.
    if (this.runs.size === 0) this.arm(Number.POSITIVE_INFINITY);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = at === Number.POSITIVE_INFINITY ? undefined : setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
  }

  private expire(): void {
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const run of this.runs) {
      if (run.deadline <= now) run.timeOut();
      else next = Math.min(next, run.deadline);
    }
    this.arm(next);
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

/**
 * Runs one prepared job under its timeout. Never throws: a failing job is an outcome.
 * A shutdown (`inFlight.stop`) aborts the job too; the caller then releases its lease instead
 * of recording it.
 */
export function execute(
  deps: ExecuteDeps, record: CronJobRecord, runId: string, job: CronJob, payload: unknown, inFlight: InFlight,
): Promise<RunOutcome> {
  const startedAt = deps.clock.now();
  const timeoutMs = record.timeoutSeconds * 1000;
  return new Promise((resolve) => {
    // The signal is made on first use: most jobs finish without ever looking at it.
    let controller: AbortController | undefined;
    let abortReason: unknown;
    let settled = false;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;

    const end = (outcome: RunOutcome) => {
      if (ended) return;
      ended = true;
      clearTimeout(graceTimer);
      inFlight.remove(running);
      resolve(outcome);
    };
    // Aborted: the job gets a moment to wind down, then it is recorded even if it never settles.
    const endAborted = () => {
      const timedOut = abortReason instanceof TimeoutError;
      const error = timedOut ? (abortReason as TimeoutError).message : `aborted: ${errorMessage(abortReason)}`;
      end({ status: timedOut ? "timed_out" : "failed", error, startedAt, unusable: false, settled });
    };
    const running: Running = {
      deadline: performance.now() + timeoutMs,
      abort(reason) {
        if (abortReason !== undefined || settled) return;
        abortReason = reason;
        controller?.abort(reason);
        graceTimer = setTimeout(endAborted, deps.abortGraceMs);
      },
      timeOut() {
        this.abort(new TimeoutError(record.timeoutSeconds));
      },
    };
    const settle = (error: string | null) => {
      settled = true;
      if (abortReason === undefined) end({ status: error === null ? "succeeded" : "failed", error, startedAt, unusable: false, settled });
      else endAborted();
    };

    const output: string[] = [];
    const ctx: JobContext = {
      job: record, payload, db: deps.store, logger: deps.logger, clock: deps.clock,
      log: (message) => { output.push(message); },
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (abortReason !== undefined) controller.abort(abortReason);
        }
        return controller.signal;
      },
      heartbeat: (ms = timeoutMs) => deps.store.extendLease(record.id, runId, deps.clock.now() + ms + deps.leaseMarginMs),
    };
    inFlight.add(running);
    let result: unknown;
    try {
      result = job.run(ctx);
    } catch (err) {
      settle(errorMessage(err));
      return;
    }
    Promise.resolve(result).then(() => settle(null), (err: unknown) => settle(errorMessage(err)));
  });
}

/** Why a run was aborted when its time was up. */
class TimeoutError extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
    this.name = "TimeoutError";
  }
}
