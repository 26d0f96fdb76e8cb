import { z } from "zod";
import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { CronJob } from "../jobs/cron-job.ts";
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

/** A claimed job made ready to run, or the reason it cannot run. */
export type Prepared =
  | { ok: true; job: CronJob; schedule: Schedule; payload: unknown }
  | { ok: false; schedule: Schedule | null; error: string };

/** Checks that a claimed row can run: known type, usable schedule and payload, not crash-looping. */
export function prepare(record: CronJobRecord, registry: JobRegistry): Prepared {
  let schedule: Schedule;
  try {
    schedule = scheduleOf(record);
  } catch (err) {
    return { ok: false, schedule: null, error: `invalid schedule: ${errorMessage(err)}` };
  }
  const job = registry.get(record.jobType);
  if (!job) return { ok: false, schedule: null, error: `unknown job_type "${record.jobType}": no CronJob is registered under this name` };
  const crashLoop = schedule.kind === "once" || record.lastError === LEASE_EXPIRED_ERROR;
  if (record.attempts > record.maxAttempts && crashLoop) {
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
 * `shutdown` aborts the job too; the caller then releases its lease instead of recording it.
 */
export async function execute(
  deps: ExecuteDeps, record: CronJobRecord, runId: string, job: CronJob, payload: unknown, shutdown: AbortSignal,
): Promise<RunOutcome> {
  const startedAt = deps.clock.now();
  const controller = new AbortController();
  const timeoutMs = record.timeoutSeconds * 1000;
  const onShutdown = () => controller.abort(shutdown.reason);
  shutdown.addEventListener("abort", onShutdown, { once: true });
  const timer = setTimeout(() => controller.abort(new TimeoutError(record.timeoutSeconds)), timeoutMs);
  const aborted = new Promise<void>((resolve) => controller.signal.addEventListener("abort", () => resolve(), { once: true }));

  let settled = false;
  const running = (async () => job.run({
    job: record, payload, db: deps.store, logger: deps.logger, clock: deps.clock, signal: controller.signal,
    heartbeat: (ms = timeoutMs) => deps.store.extendLease(record.id, runId, deps.clock.now() + ms + deps.leaseMarginMs),
  }))().then(
    () => ({ error: null as string | null }),
    (err: unknown) => ({ error: errorMessage(err) }),
  ).finally(() => { settled = true; });

  try {
    const first = await Promise.race([running, aborted.then(() => undefined)]);
    if (first && !controller.signal.aborted) return { status: first.error === null ? "succeeded" : "failed", error: first.error, startedAt, unusable: false, settled: true };
    // Aborted: give the job a moment to wind down, then record it even if it never settles.
    await Promise.race([running, Bun.sleep(deps.abortGraceMs)]);
    const reason = controller.signal.reason;
    const error = reason instanceof TimeoutError ? reason.message : `aborted: ${errorMessage(reason)}`;
    return { status: reason instanceof TimeoutError ? "timed_out" : "failed", error, startedAt, unusable: false, settled };
  } finally {
    clearTimeout(timer);
    shutdown.removeEventListener("abort", onShutdown);
  }
}
