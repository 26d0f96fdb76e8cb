import fs from "node:fs";
import path from "node:path";
import { AppError, errorMessage } from "../src/errors.ts";

/** The files of the freshness folder (SPEC §8), by role. */
export const FRESHNESS_FILES = {
  cronRunner: "cron_runner.json",
  testsHtml: "all_tests_cronjob_fresh.html",
  testsJson: "all_tests_cronjob_fresh.json",
  testsLock: "tests_cronjob_runner.lock",
  notifyState: "notify_stale_state.json",
  notifyLock: "notify_stale.lock",
} as const;

let written = 0;

/**
 * Writes `text` to `file` as a whole: a temp file beside it, flushed to disk, then renamed
 * over it. A reader sees the old file or the new one, never a part of either.
 */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(file);
  // Unique among running processes (pid) and within this one (counter); no crypto to load at start-up.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}-${++written}.tmp`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const fd = fs.openSync(tmp, "w", 0o644);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new AppError("UNAVAILABLE", `cannot write ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Reads a JSON file: `undefined` when it does not exist; an `AppError` naming the path when
 * it exists but cannot be read or is not JSON.
 */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AppError("UNAVAILABLE", `cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError("UNAVAILABLE", `cannot read ${file}: not valid JSON (${errorMessage(err)})`, { cause: err });
  }
}

/** Creates the freshness folder; an `AppError` naming it when that fails. */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new AppError("UNAVAILABLE", `cannot create the folder ${dir}: ${errorMessage(err)}`, { cause: err });
  }
}

/** What `app cron-runner` did last, in `freshness/cron_runner.json`. */
export interface CronRunnerMarker {
  version: 1;
  /** When this run ended. */
  time: string;
  outcome: "ok" | "jobs_failed" | "unreachable" | "refused" | "timeout" | "error";
  exitCode: number;
  url: string;
  durationMs: number;
  /** The last run the server answered with a tick (this one or an earlier one); null if never. */
  lastOkAt: string | null;
  /** The tick's counts, when the server answered. */
  tick: { runId: string; claimed: number; succeeded: number; failed: number; timedOut: number; durationMs: number } | null;
  error: string | null;
}

const isIsoTime = (v: unknown): v is string => typeof v === "string" && !Number.isNaN(Date.parse(v));

/** Checks the shape of a parsed cron-runner marker; an `AppError` naming the file when it is not one. */
export function asCronRunnerMarker(value: unknown, file: string): CronRunnerMarker {
  const m = value as Partial<CronRunnerMarker> | null;
  if (!m || typeof m !== "object" || !isIsoTime(m.time) || typeof m.outcome !== "string"
    || !(m.lastOkAt === null || isIsoTime(m.lastOkAt))) {
    throw new AppError("UNAVAILABLE", `cannot read ${file}: not a cron-runner marker (needs "time", "outcome", "lastOkAt")`);
  }
  return m as CronRunnerMarker;
}

/** Shell-quotes one word for `sh -c` (single quotes, nothing expands inside). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
