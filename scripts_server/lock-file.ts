/**
 * The scripts' run locks: `flock(2)` (through `bun:ffi` on the C library) on a lock file that
 * is created once and then never renamed, replaced or deleted. The kernel grants the lock to
 * one open file at a time and drops it when its holder's descriptor closes (the process ends,
 * SIGKILL included), so there is no stale lock to judge and no takeover to race: a holder that
 * died left a lock the next caller simply gets. The file also tells who holds it, for messages.
 */
import fs from "node:fs";
import { hostname } from "node:os";
import { AppError, errorMessage } from "../src/errors.ts";

/** Who holds a lock, as its holder wrote it into the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export type LockResult =
  | { acquired: true; release: () => void; tookOverFrom: LockHolder | undefined }
  | { acquired: false; holder: LockHolder | undefined };

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = process.platform === "darwin" ? 35 : 11;
const EINTR = 4;

/** Opens the lock file itself: created if missing, never through a symlink. */
const OPEN_LOCK = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;

interface Libc {
  flock(fd: number, operation: number): number;
  errno(): number;
}

let libc: Libc | undefined;

/** The C library's `flock` and `errno`, loaded on first use. */
function loadLibc(): Libc {
  if (libc) return libc;
  // Required lazily: only the commands that lock pay for loading the FFI module.
  const { dlopen, read, suffix } = require("bun:ffi") as typeof import("bun:ffi");
  const names = process.platform === "darwin" ? ["libSystem.B.dylib"] : ["libc.so.6", `libc.${suffix}`, "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];
  const errnoSymbol = process.platform === "darwin" ? "__error" : "__errno_location";
  let failure: unknown;
  for (const name of names) {
    try {
      const lib = dlopen(name, {
        flock: { args: ["i32", "i32"], returns: "i32" },
        [errnoSymbol]: { args: [], returns: "ptr" },
      });
      const errnoAt = lib.symbols[errnoSymbol] as unknown as () => Parameters<typeof read.i32>[0];
      libc = { flock: (fd, op) => lib.symbols.flock(fd, op) as number, errno: () => read.i32(errnoAt(), 0) };
      return libc;
    } catch (err) {
      failure = err;
    }
  }
  throw new AppError("UNAVAILABLE", `cannot load the C library for flock(2): ${errorMessage(failure)}`, { cause: failure });
}

/**
 * Takes the lock file `file` for this process without waiting: `acquired: false` (with who
 * holds it, when known) while another process holds it. The file may be on a local file system
 * or NFS (where Linux maps `flock` to a POSIX lock). A symlink at `file`, a file with more than
 * one link or owned by another user is refused: the lock file is written to.
 */
export function acquireLock(file: string, { now }: { now: number }): LockResult {
  const lib = loadLibc();
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_LOCK, 0o644);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ELOOP" ? "it is a symlink (not followed)" : errorMessage(err);
    throw new AppError("UNAVAILABLE", `cannot open the lock file ${file}: ${why}`, { cause: err });
  }
  try {
    checkLockFile(fd, file);
    for (;;) {
      if (lib.flock(fd, LOCK_EX | LOCK_NB) === 0) break;
      const errno = lib.errno(); // read at once: nothing in between touches it
      if (errno === EINTR) continue;
      if (errno === EWOULDBLOCK) {
        const holder = parseHolder(readAll(fd));
        fs.closeSync(fd);
        return { acquired: false, holder };
      }
      throw new AppError("UNAVAILABLE", `cannot lock ${file}: flock failed with errno ${errno}`);
    }
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {}
    throw err;
  }
  // Ours now. What a previous holder left in the file means it ended without releasing.
  const previous = parseHolder(readAll(fd));
  const mine: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date(now).toISOString() };
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${JSON.stringify(mine)}\n`, 0);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      fs.ftruncateSync(fd, 0);
    } catch {}
    fs.closeSync(fd); // drops the lock
  };
  return { acquired: true, release, tookOverFrom: previous };
}

/** The lock file must be a plain file of ours with one name: it is truncated and written to. */
function checkLockFile(fd: number, file: string): void {
  const stat = fs.fstatSync(fd);
  const problem = !stat.isFile() ? "it is not a regular file"
    : stat.nlink !== 1 ? `it has ${stat.nlink} hard links`
    : typeof process.getuid === "function" && stat.uid !== process.getuid() ? `it belongs to uid ${stat.uid}, not to this user (uid ${process.getuid()})`
    : "";
  if (problem) throw new AppError("UNAVAILABLE", `refusing the lock file ${file}: ${problem}; remove it`);
}

function readAll(fd: number): string {
  const size = Math.min(fs.fstatSync(fd).size, 4096);
  const buffer = Buffer.alloc(size);
  const n = size === 0 ? 0 : fs.readSync(fd, buffer, 0, size, 0);
  return buffer.subarray(0, n).toString("utf8");
}

function parseHolder(text: string): LockHolder | undefined {
  if (!text.trim()) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(value.pid) && typeof value.host === "string") {
      return { pid: value.pid!, host: value.host, startedAt: typeof value.startedAt === "string" ? value.startedAt : "" };
    }
  } catch {}
  return undefined;
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
