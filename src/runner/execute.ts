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
  return new Run(deps, record, runId, inFlight).start(job, payload);
}

/**
 * One run in flight. A class, not closures: a burst starts a thousand runs in a few ms, and
 * each closure (and a context literal with a getter) is an allocation per run, paid most while
 * the code is still cold. What most runs never use (the signal, the output, the grace timer)
 * is made on first use.
 */
class Run implements Running {
  readonly jobId: number;
  readonly deadline: number;
  private readonly startedAt: number;
  private readonly timeoutMs: number;
  private resolve!: (outcome: RunOutcome) => void;
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private settled = false;
  private ended = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private output: RunOutput | undefined;

  constructor(private readonly deps: ExecuteDeps, readonly record: CronJobRecord, readonly runId: string, private readonly inFlight: InFlight) {
    this.jobId = record.id;
    this.startedAt = deps.clock.now();
    this.timeoutMs = timeoutOf(record);
    this.deadline = performance.now() + this.timeoutMs;
  }

  start(job: CronJob, payload: unknown): Promise<RunOutcome> {
    const outcome = new Promise<RunOutcome>((resolve) => { this.resolve = resolve; });
    this.inFlight.add(this);
    let result: unknown;
    try {
      result = job.run(new RunContext(this, this.deps, this.record, payload));
    } catch (err) {
      this.settle(errorMessage(err));
      return outcome;
    }
    Promise.resolve(result).then(() => this.settle(null), (err: unknown) => this.settle(errorMessage(err)));
    return outcome;
  }

  /** The run's signal, made on first use: most jobs finish without ever looking at it. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** A line of output, kept with the history row; the buffer is made on the first: most jobs say nothing. */
  log(message: string): void {
    (this.output ??= new RunOutput()).append(message);
  }

  heartbeat(ms = this.timeoutMs): Promise<boolean> {
    return this.deps.store.extendLease(this.record.id, this.runId, this.deps.clock.now() + ms + this.deps.leaseMarginMs);
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined || this.settled) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    // Aborted: the job gets a moment to wind down, then it is recorded even if it never settles.
    this.graceTimer = setTimeout(() => this.endAborted(), this.deps.abortGraceMs);
  }

  timeOut(): void {
    this.abort(new TimeoutError(this.timeoutMs / 1000));
  }

  cancel(): void {
    this.abort(new CancelledError());
  }

  private settle(error: string | null): void {
    this.settled = true;
    if (this.abortReason === undefined) this.end(error === null ? "succeeded" : "failed", error);
    else this.endAborted();
  }

  private endAborted(): void {
    const { status, error } = abortedOutcome(this.abortReason);
    this.end(status, error);
  }

  private end(status: RunOutcome["status"], error: string | null): void {
    if (this.ended) return;
    this.ended = true;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.inFlight.remove(this);
    this.resolve({ status, error, startedAt: this.startedAt, output: this.output?.text() ?? null, unusable: false, settled: this.settled });
  }
}

/**
 * What a job's `run` is given. `log` and `heartbeat` are its own bound functions, so a job may
 * take the context apart (`run({ payload, log })`) or copy it; `signal` is made on first use.
 */
class RunContext implements JobContext {
  readonly users: UserStore;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly log: (message: string) => void;
  readonly heartbeat: (ms?: number) => Promise<boolean>;
  readonly #run: Run;

  constructor(run: Run, deps: ExecuteDeps, readonly job: CronJobRecord, readonly payload: unknown) {
    this.#run = run;
    this.users = deps.store;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.log = (message) => run.log(message);
    this.heartbeat = (ms) => run.heartbeat(ms);
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }
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
