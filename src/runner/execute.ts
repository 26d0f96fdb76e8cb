import { z } from "zod";
import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { CronJob, JobContext } from "../jobs/cron-job.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import { CANCELLED_ERROR, givesUp, policyProblem, timeoutMs as timeoutOf, type RunOutcome } from "../lifecycle/lifecycle.ts";
import type { Logger } from "../logger.ts";
import { scheduleOf, type Schedule } from "../schedule/schedule.ts";
import type { CronJobRecord, RunnerStore, UserStore } from "../store/store.ts";
import type { InFlight, Running } from "./in-flight.ts";
import { RunOutput } from "./run-output.ts";

export interface ExecuteDeps {
  store: RunnerStore & UserStore;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  leaseMarginMs: number;
  /** How long a timed-out job gets to settle after its signal aborts before the runner moves on. */
  abortGraceMs: number;
}

/** A claimed job made ready to run, or the reason it cannot run. */
export type Prepared =
  | { ok: true; job: CronJob; schedule: Schedule; payload: unknown }
  | { ok: false; schedule: Schedule | null; error: string };

/** Checks that a claimed row can run: known type, usable schedule and payload, attempts left. */
export function prepare(record: CronJobRecord, registry: JobRegistry): Prepared {
  let schedule: Schedule;
  try {
    schedule = scheduleOf(record);
  } catch (err) {
    return { ok: false, schedule: null, error: `invalid schedule: ${errorMessage(err)}` };
  }
  const policy = policyProblem(record);
  if (policy !== null) return { ok: false, schedule: null, error: `invalid schedule policy: ${policy}` };
  const job = registry.get(record.jobType);
  if (!job) return { ok: false, schedule: null, error: `unknown job_type "${record.jobType}": no CronJob is registered under this name` };
  if (givesUp(record, schedule)) {
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
 * Its signal aborts for one of three reasons, told apart in the outcome: its time is up
 * (`timed_out`), `jobs.cancel` asked (`cancelled`, through `Running.cancel`), or the process
 * shuts down (`inFlight.stop`; the caller then releases its lease instead of recording it).
 */
export function execute(
  deps: ExecuteDeps, record: CronJobRecord, runId: string, job: CronJob, payload: unknown, inFlight: InFlight,
): Promise<RunOutcome> {
  const startedAt = deps.clock.now();
  const timeoutMs = timeoutOf(record);
  // Made on the first `ctx.log`: most jobs say nothing.
  let output: RunOutput | undefined;
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
      const { status, error } = abortedOutcome(abortReason);
      end({ status, error, startedAt, output: output?.text() ?? null, unusable: false, settled });
    };
    const running: Running = {
      jobId: record.id,
      runId,
      deadline: performance.now() + timeoutMs,
      abort(reason) {
        if (abortReason !== undefined || settled) return;
        abortReason = reason;
        controller?.abort(reason);
        graceTimer = setTimeout(endAborted, deps.abortGraceMs);
      },
      timeOut() {
        this.abort(new TimeoutError(timeoutMs / 1000));
      },
      cancel() {
        this.abort(new CancelledError());
      },
    };
    const settle = (error: string | null) => {
      settled = true;
      if (abortReason === undefined) end({ status: error === null ? "succeeded" : "failed", error, startedAt, output: output?.text() ?? null, unusable: false, settled });
      else endAborted();
    };

    const ctx: JobContext = {
      job: record, payload, users: deps.store, logger: deps.logger, clock: deps.clock,
      log(message) {
        (output ??= new RunOutput()).append(message);
      },
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

/** How an aborted run is recorded, by the reason its signal aborted with. */
function abortedOutcome(reason: unknown): Pick<RunOutcome, "status" | "error"> {
  if (reason instanceof TimeoutError) return { status: "timed_out", error: reason.message };
  if (reason instanceof CancelledError) return { status: "cancelled", error: CANCELLED_ERROR };
  return { status: "failed", error: `aborted: ${errorMessage(reason)}` };
}

/** Why a run was aborted when its time was up. */
class TimeoutError extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
    this.name = "TimeoutError";
  }
}

/** Why a run was aborted when `jobs.cancel` asked (the signal's `reason`, as a job sees it). */
export class CancelledError extends Error {
  constructor() {
    super("the run was cancelled (jobs.cancel)");
    this.name = "CancelledError";
  }
}
