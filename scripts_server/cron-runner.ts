/**
 * `app cron-runner`: one POST to the server's `/api/cron/run`, for crontab. Started every
 * minute, so it loads only config, secrets and these helpers: no server, ORM or tRPC.
 * It prints with `console.log`/`console.error`, not `process.stdout`/`process.stderr`: in Bun
 * those build a Node stream on first use, which loads more than this whole command needs
 * ("%s" prints the text as is, a "%" in a job name or an error included).
 */
import path from "node:path";
import { EXIT } from "../src/exit-codes.ts";
import type { Config } from "../src/config.ts";
import { systemClock } from "../src/clock.ts";
import { errorMessage } from "../src/errors.ts";
import type { JobRunResult, TickResult } from "../src/runner/runner.ts";
import { resolveSecrets } from "../src/secrets.ts";
import { escapeControl } from "../src/text/escape.ts";
import { asCronRunnerMarker, FRESHNESS_FILES, readJsonFile, writeFileAtomic, type CronRunnerMarker } from "../src/watchdog/files.ts";
import { summarize } from "./summary.ts";

export interface CronRunnerOptions {
  /** Most jobs the tick runs. */
  limit?: number | undefined;
  /** Bound of the whole run, retries included (default 55 s: it ends before the next minute). */
  timeoutMs?: number;
}

/** Waits before each retry of a refused or reset connection: about 4 s in all. */
const RETRY_DELAYS_MS = [250, 500, 1_000, 2_000];
const DEFAULT_TIMEOUT_MS = 55_000;
const RETRYABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ConnectionRefused", "ConnectionClosed", "EPIPE"]);
const MAX_LISTED_FAILURES = 20;

type Attempt =
  | { kind: "tick"; tick: TickResult }
  | { kind: "unreachable" | "refused" | "timeout" | "error"; error: string };

/** Runs one tick through the server; answers the exit code (0 all ran, 1 some failed, 2 unreachable or refused). */
export async function runCronRunner(config: Config, { limit, timeoutMs = DEFAULT_TIMEOUT_MS }: CronRunnerOptions): Promise<number> {
  const started = systemClock.now();
  const url = `${config.appUrl}/api/cron/run`;
  let attempt: Attempt;
  try {
    const secret = config.cronSecret ?? resolveSecrets(config, { generate: false }).cronSecret;
    attempt = await post(url, secret, limit, timeoutMs);
  } catch (err) {
    attempt = { kind: "error", error: errorMessage(err) };
  }
  const failedJobs = attempt.kind === "tick" ? attempt.tick.failed + attempt.tick.timedOut : 0;
  const exitCode = attempt.kind !== "tick" ? EXIT.UNUSABLE : failedJobs > 0 ? EXIT.FAILED : EXIT.OK;

  if (attempt.kind === "tick") {
    console.log("%s", summarize(attempt.tick));
    reportFailures(attempt.tick.results);
  } else {
    console.error("%s", `cron-runner: ${escapeControl(attempt.error)}`);
  }
  const marker = markerOf(config, url, attempt, exitCode, started);
  try {
    writeFileAtomic(path.join(config.freshnessDir, FRESHNESS_FILES.cronRunner), `${JSON.stringify(marker, null, 2)}\n`);
  } catch (err) {
    console.error("%s", `cron-runner: ${escapeControl(errorMessage(err))}`);
    return Math.max(exitCode, EXIT.FAILED);
  }
  return exitCode;
}

/** POSTs once, retrying a refused or reset connection until the deadline; never a 4xx/5xx answer. */
async function post(url: string, secret: string, limit: number | undefined, timeoutMs: number): Promise<Attempt> {
  const signal = AbortSignal.timeout(timeoutMs);
  const deadline = systemClock.now() + timeoutMs;
  const init: RequestInit = {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: limit === undefined ? "" : JSON.stringify({ limit }),
    signal,
  };
  for (let retry = 0; ; retry++) {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      if (signal.aborted) return { kind: "timeout", error: `no answer from ${url} within ${timeoutMs / 1000} s (a tick may still be running on the server)` };
      const code = (err as { code?: string }).code ?? "";
      const delay = RETRY_DELAYS_MS[retry];
      if (!RETRYABLE.has(code) || delay === undefined || systemClock.now() + delay >= deadline) {
        const tries = retry + 1;
        return { kind: "unreachable", error: `cannot reach ${url}${tries > 1 ? ` after ${tries} attempts` : ""}: ${errorMessage(err)}` };
      }
      await Bun.sleep(delay);
      continue;
    }
    try {
      return await readAnswer(url, response);
    } catch (err) {
      if (signal.aborted) return { kind: "timeout", error: `no complete answer from ${url} within ${timeoutMs / 1000} s` };
      return { kind: "error", error: `bad answer from ${url}: ${errorMessage(err)}` };
    }
  }
}

async function readAnswer(url: string, response: Response): Promise<Attempt> {
  const text = await response.text();
  if (response.status === 401) {
    return {
      kind: "refused",
      error: `${url} refused the cron secret (401): give the server's secret with --cron-secret or CRON_SECRET, or leave both unset on the server's host so the generated one in the data directory is used`,
    };
  }
  if (!response.ok) {
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
    } catch {}
    return { kind: "refused", error: `${url} answered ${response.status}: ${detail}` };
  }
  const tick = JSON.parse(text) as TickResult;
  if (typeof tick?.claimed !== "number" || typeof tick.failed !== "number" || typeof tick.timedOut !== "number") {
    return { kind: "error", error: `${url} did not answer a tick result (is APP_URL the cronjobs server?)` };
  }
  tick.results ??= [];
  return { kind: "tick", tick };
}

/** One stderr line per failed or timed-out job, so crontab's mail says which (control characters escaped). */
function reportFailures(results: JobRunResult[]): void {
  const failures = results.filter((r) => r.status === "failed" || r.status === "timed_out");
  for (const r of failures.slice(0, MAX_LISTED_FAILURES)) {
    const line = `job ${r.id} "${r.name}" (${r.jobType}) ${r.status === "timed_out" ? "timed out" : "failed"}${r.error ? `: ${r.error}` : ""}`;
    console.error("%s", `cron-runner: ${escapeControl(line)}`);
  }
  if (failures.length > MAX_LISTED_FAILURES) console.error("%s", `cron-runner: … and ${failures.length - MAX_LISTED_FAILURES} more`);
}

function markerOf(config: Config, url: string, attempt: Attempt, exitCode: number, started: number): CronRunnerMarker {
  const now = systemClock.now();
  const file = path.join(config.freshnessDir, FRESHNESS_FILES.cronRunner);
  let lastOkAt: string | null = null;
  if (attempt.kind === "tick") {
    lastOkAt = new Date(now).toISOString();
  } else {
    try {
      const previous = readJsonFile(file);
      if (previous !== undefined) lastOkAt = asCronRunnerMarker(previous, file).lastOkAt;
    } catch {
      // An unreadable previous marker is replaced; notify-stale then sees no answered tick yet.
    }
  }
  const tick = attempt.kind === "tick" ? attempt.tick : null;
  return {
    version: 1,
    time: new Date(now).toISOString(),
    outcome: tick ? (exitCode === EXIT.OK ? "ok" : "jobs_failed") : attempt.kind as CronRunnerMarker["outcome"],
    exitCode,
    url,
    durationMs: now - started,
    lastOkAt,
    tick: tick && { runId: tick.runId, claimed: tick.claimed, succeeded: tick.succeeded, failed: tick.failed, timedOut: tick.timedOut, durationMs: tick.durationMs },
    error: attempt.kind === "tick" ? null : attempt.error,
  };
}
