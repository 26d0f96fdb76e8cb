import type { Subprocess } from "bun";
import fs from "node:fs";
import path from "node:path";
import { atRunEnd } from "./cleanup.ts";
import { onCleanup, tempDir } from "./db.ts";
import { followServerLog } from "./server-log.ts";
import { SECRETS } from "./server.ts";
import type { TestServeOptions } from "./serve-with-test-jobs.ts";

const root = path.resolve(import.meta.dir, "../..");
const bun = process.execPath;

// Every server still running when the test process exits is killed, even if a test's cleanup did not run.
const running = new Set<Subprocess>();
atRunEnd(() => {
  for (const child of running) child.kill("SIGKILL");
});

/** A server process of the fault suite. */
export interface ServerProcess {
  child: Subprocess<"ignore", "ignore", "pipe">;
  pid: number;
  url: string;
  /** Its log lines so far (JSON, one per event; other lines as `{ msg }`). */
  logs(): Record<string, unknown>[];
  exited: Promise<number>;
}

export interface ServerOptions {
  databaseUrl: string;
  /**
   * `app`: the real `app serve` (built-in job types only). `test-jobs`: the same boot path with
   * the test job types registered (test/support/serve-with-test-jobs.ts).
   */
  entry?: "app" | "test-jobs";
  /** For `test-jobs`: grace period, journal file and runner options. */
  testJobs?: TestServeOptions;
  /** For `app`: extra arguments after `serve`. */
  args?: string[];
  env?: Record<string, string>;
  /** Runs it through this command prefix, e.g. setpriv as another user (its working dir is then open to all). */
  prefix?: string[];
  /** For `app`: the program instead of `bun src/cli/index.ts`, e.g. a compiled binary another user can read. */
  program?: string[];
}

/** Starts a server on a port of its own (PORT=0) and waits until it listens; SIGKILLed after the test. */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const dir = tempDir("cronjobs-fault-server-");
  const command = options.entry === "test-jobs"
    ? [bun, path.join(root, "test/support/serve-with-test-jobs.ts"), JSON.stringify(options.testJobs ?? {})]
    : [...(options.program ?? [bun, path.join(root, "src/cli/index.ts")]), "serve", ...(options.args ?? [])];
  if (options.prefix) fs.chmodSync(dir, 0o777);
  const child = Bun.spawn([...(options.prefix ?? []), ...command], {
    cwd: dir,
    env: {
      ...process.env, DATABASE_URL: options.databaseUrl, HOST: "127.0.0.1", PORT: "0", CRON_SECRET: SECRETS.cronSecret,
      ADMIN_TOKEN: SECRETS.adminToken, FRESHNESS_DIR: path.join(dir, "freshness"), DB_POOL_SIZE: "12", ...options.env,
    },
    stdin: "ignore", stdout: "ignore", stderr: "pipe",
  });
  running.add(child);
  void child.exited.then(() => running.delete(child));
  onCleanup(() => { child.kill("SIGKILL"); });
  const log = followServerLog(child.stderr, child.exited);
  // Resolves once the process has exited and its last log lines are read.
  const exited = child.exited.then(async (code) => { await log.read.catch(() => {}); return code; });
  const url = await log.url;
  const lines = log.lines;
  return { child, pid: child.pid, url, logs: () => lines, exited };
}

/** `POST /api/cron/run` with the cron secret; answers the status and the parsed body. */
export async function postTick(url: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${url}/api/cron/run`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRETS.cronSecret}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

/** Polls `check` until it answers true or `timeoutMs` passes; answers whether it did. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(everyMs);
  }
  return check();
}

/** True when a response body leaks a stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at |\bat [\w.<>]+ \(.*:\d+:\d+\)/.test(text);
}

/** Waits until the server has finished `ticks` ticks (its own timer's first one runs at start), from /metrics. */
export async function waitForTicks(url: string, ticks = 1, timeoutMs = 10_000): Promise<void> {
  const done = await waitUntil(async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^cronjobs_ticks_total (\d+)/m.exec(text)?.[1] ?? 0) >= ticks;
  }, timeoutMs);
  if (!done) throw new Error(`the server did not finish ${ticks} tick(s) within ${timeoutMs} ms`);
}
