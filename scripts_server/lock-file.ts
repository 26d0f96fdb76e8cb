import fs from "node:fs";
import { hostname } from "node:os";
import { AppError, errorMessage } from "../src/errors.ts";

/** What a lock file holds: who runs, since when, and when the lock is void even if that PID lives. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** After this the lock is taken over whatever the PID (guards against PID reuse). */
  expiresAt: string;
}

export type LockResult =
  | { acquired: true; release: () => void; tookOverFrom: LockHolder | undefined }
  | { acquired: false; holder: LockHolder | undefined };

/** A lock file being written by its creator right now is not stale yet. */
const CREATING_GRACE_MS = 5_000;

/**
 * Takes the lock file `file` for this process, exclusively (`O_EXCL`). A lock whose process
 * is gone (on this host), or that expired, is taken over; a live one is left alone.
 */
export function acquireLock(file: string, { now, ttlMs }: { now: number; ttlMs: number }): LockResult {
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
  };
  const text = `${JSON.stringify(mine)}\n`;
  let tookOverFrom: LockHolder | undefined;
  for (let tries = 0; tries < 3; tries++) {
    try {
      fs.writeFileSync(file, text, { flag: "wx", mode: 0o644 });
      return { acquired: true, release: () => releaseLock(file, text), tookOverFrom };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new AppError("UNAVAILABLE", `cannot create the lock file ${file}: ${errorMessage(err)}`, { cause: err });
      }
    }
    const held = readLock(file);
    if (held === "gone") continue;
    if (!isStale(held, now)) return { acquired: false, holder: held.holder };
    // Move the stale lock aside, then check that what moved is what was judged stale: a
    // competitor may have taken it over in between, and its fresh lock must stay.
    const aside = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue;
    }
    const moved = fs.readFileSync(aside, "utf8");
    if (moved !== held.text) {
      try {
        fs.linkSync(aside, file);
      } catch {}
      fs.rmSync(aside, { force: true });
      return { acquired: false, holder: parseHolder(moved) };
    }
    fs.rmSync(aside, { force: true });
    tookOverFrom = held.holder;
  }
  return { acquired: false, holder: undefined };
}

function releaseLock(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, "utf8") === text) fs.rmSync(file, { force: true });
  } catch {}
}

function readLock(file: string): { text: string; holder: LockHolder | undefined; mtimeMs: number } | "gone" {
  try {
    const text = fs.readFileSync(file, "utf8");
    return { text, holder: parseHolder(text), mtimeMs: fs.statSync(file).mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw new AppError("UNAVAILABLE", `cannot read the lock file ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(value.pid) && typeof value.host === "string" && typeof value.expiresAt === "string") return value as LockHolder;
  } catch {}
  // Older or hand-written locks may hold just a PID.
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, host: hostname(), startedAt: "", expiresAt: "" } : undefined;
}

function isStale(held: { holder: LockHolder | undefined; mtimeMs: number }, now: number): boolean {
  const { holder } = held;
  if (!holder) return now - held.mtimeMs > CREATING_GRACE_MS;
  const expires = Date.parse(holder.expiresAt);
  if (!Number.isNaN(expires) && now > expires) return true;
  return holder.host === hostname() && !isProcessAlive(holder.pid);
}

/** Whether `pid` runs: it exists and is not a zombie (an exited child nobody reaped yet). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}
