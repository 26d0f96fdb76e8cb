import { spawn } from "node:child_process";
import fs from "node:fs";
import { systemClock } from "../src/clock.ts";
import { errorMessage } from "../src/errors.ts";

export interface CommandOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL of the process group (default 5 s). */
  killGraceMs?: number;
  /** Bytes of output kept, from the end (default 64 KiB). */
  outputLimit?: number;
  /** Aborting stops the command like a timeout (our own SIGTERM, for instance). */
  signal?: AbortSignal;
  /** Written to the command's stdin (otherwise stdin is empty). */
  input?: string;
}

export interface CommandResult {
  exitCode: number | null;
  /** The signal that ended the shell, if any. */
  signal: string | null;
  timedOut: boolean;
  /** Why it stopped early: the abort reason. */
  interrupted: string | null;
  /** Set when the command could not be started at all. */
  spawnError: string | null;
  durationMs: number;
  /** The end of stdout and stderr, interleaved as they came. */
  output: string;
}

/**
 * Runs `command` with `sh -c` in a process group of its own, so a timeout kills everything it
 * started (SIGTERM, then SIGKILL after the grace), not just the shell. Leftover background
 * processes of the group are ended when the shell exits too.
 */
export function runCommand(command: string, options: CommandOptions): Promise<CommandResult> {
  const { cwd, env, timeoutMs, killGraceMs = 5_000, outputLimit = 64 * 1024, signal, input } = options;
  const started = systemClock.now();
  const tail = new OutputTail(outputLimit);
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd, env, detached: true, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    // A command that does not read its stdin closes the pipe: that is not an error here.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
    let timedOut = false;
    let interrupted: string | null = null;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      if (child.pid !== undefined) stopping ??= terminateGroup(child.pid, killGraceMs);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = () => {
      interrupted = errorMessage(signal?.reason ?? "aborted");
      stop();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout!.on("data", (chunk: Buffer) => tail.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => tail.push(chunk));

    let settled = false;
    const finish = (result: Pick<CommandResult, "exitCode" | "signal" | "spawnError">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve({ ...result, timedOut, interrupted, durationMs: systemClock.now() - started, output: tail.text() });
    };
    child.on("error", (err) => finish({ exitCode: null, signal: null, spawnError: errorMessage(err) }));
    child.on("exit", async (exitCode, exitSignal) => {
      clearTimeout(timer);
      const closed = new Promise((done) => child.on("close", done));
      // The shell is gone; end what it left running in its group, then let the pipes drain.
      stop();
      await stopping;
      await within(closed, 2_000);
      child.stdout!.destroy();
      child.stderr!.destroy();
      finish({ exitCode, signal: exitSignal, spawnError: null });
    });
  });
}

/** SIGTERM to the whole group; SIGKILL to what is left of it after `graceMs`. */
async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  try {
    process.kill(-pgid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = systemClock.now() + graceMs;
  while (groupAlive(pgid)) {
    if (systemClock.now() >= deadline) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {}
      return;
    }
    await Bun.sleep(50);
  }
}

/** Whether a process of group `pgid` still runs; zombies (exited, not yet reaped) do not count. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") return true;
    } catch {}
  }
  return false;
}

function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise((done) => (timer = setTimeout(done, ms)))]).finally(() => clearTimeout(timer));
}

/** Keeps the last `limit` bytes of a stream of chunks. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
      this.dropped = true;
    }
  }

  text(): string {
    let all = Buffer.concat(this.chunks);
    if (all.length > this.limit) {
      all = all.subarray(all.length - this.limit);
      this.dropped = true;
    }
    return `${this.dropped ? "… (earlier output cut)\n" : ""}${all.toString("utf8")}`;
  }
}
