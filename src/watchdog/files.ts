import fs from "node:fs";
import path from "node:path";
import { AppError, errorMessage } from "../errors.ts";

/** The files of the freshness folder (SPEC §8), by role. */
export const FRESHNESS_FILES = {
  cronRunner: "cron_runner.json",
  testsHtml: "all_tests_cronjob_fresh.html",
  testsJson: "all_tests_cronjob_fresh.json",
  testsLock: "tests_cronjob_runner.lock",
  notifyState: "notify_stale_state.json",
  notifyLock: "notify_stale.lock",
} as const;

/** Opens a new file, never an existing one, never through a symlink. */
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
/** Reads a file itself, never what a symlink planted at its name points to. */
const READ_NO_FOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;

/** 16 random hex characters: a temporary name nobody can plant a file or a symlink at in advance. */
function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Writes `text` to `file` as a whole: an exclusively created temporary (`O_CREAT|O_EXCL|O_NOFOLLOW`,
 * an unpredictable name) beside it, flushed to disk, then renamed over it. A reader sees the old
 * file or the new one, never a part of either; a symlink planted at the final name is replaced,
 * never followed, and nothing can be planted at the temporary's name. `mode`: 0644 for what the
 * dashboard's server reads, 0600 for the scripts' own state.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  const dir = path.dirname(file);
  let tmp: string | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true });
    let fd: number | undefined;
    for (let tries = 0; fd === undefined; tries++) {
      tmp = path.join(dir, `.${path.basename(file)}.${randomSuffix()}.tmp`);
      try {
        fd = fs.openSync(tmp, CREATE_NEW, mode);
      } catch (err) {
        // A name taken by chance (2^-64): draw another; anything else is the answer.
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || tries >= 3) {
          tmp = undefined;
          throw err;
        }
      }
    }
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp!, file);
  } catch (err) {
    if (tmp) fs.rmSync(tmp, { force: true });
    throw new AppError("UNAVAILABLE", `cannot write ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Reads a file's text without following a symlink at its name (one there is an error, `ELOOP`). */
export function readFileNoFollow(file: string): string {
  const fd = fs.openSync(file, READ_NO_FOLLOW);
  try {
    return fs.readFileSync(fd, "utf8");
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a JSON file, not following a symlink: `undefined` when it does not exist; an `AppError`
 * naming the path when it exists but cannot be read (a symlink included) or is not JSON.
 */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    const why = code === "ELOOP" ? "it is a symlink (not followed)" : errorMessage(err);
    throw new AppError("UNAVAILABLE", `cannot read ${file}: ${why}`, { cause: err });
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
