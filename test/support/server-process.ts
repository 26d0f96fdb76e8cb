import type { Subprocess } from "bun";
import fs from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import type { TestAppOptions } from "./app-with-test-jobs.ts";
import { atRunEnd, onCleanup } from "./cleanup.ts";
import { tempDir } from "./db.ts";
import { followServerLog } from "./server-log.ts";
import { SECRETS } from "./server.ts";

/**
 * The one way tests start a server process: `app serve` (or the same boot path with the test
 * job types) on a port of its own, the test secrets in its environment, its JSON log
 * followed. Killed after the test (onCleanup), and at the end of the run whatever happened.
 */

const root = path.resolve(import.meta.dir, "../..");
const bun = process.execPath;

/** The environment every test server gets (then `options.env` on top). */
export const SERVER_SECRETS_ENV = {
  CRON_SECRET: SECRETS.cronSecret, ADMIN_TOKEN: SECRETS.adminToken, JOB_SIGNING_SECRET: SECRETS.jobSigningSecret,
};

// Every server still running when the test process exits is killed, even if a test's cleanup did not run.
const running = new Set<Subprocess>();
atRunEnd(() => {
  for (const child of running) child.kill("SIGKILL");
});

/** Whether Debian's libfaketime (package `faketime`) is here to move one process's clock. */
export const faketimeAvailable = ["x86_64-linux-gnu", "aarch64-linux-gnu"]
  .some((arch) => fs.existsSync(`/usr/lib/${arch}/faketime/libfaketime.so.1`));

/** A server process started by `startServer`. */
export interface ServerProcess {
  child: Subprocess<"ignore", "ignore", "pipe">;
  pid: number;
  /** Its base URL (it listens on a port of its own choosing, PORT=0). */
  url: string;
  /** `runner` of the history rows it writes (host/pid). */
  runner: string;
  /** Its log lines so far (JSON, one per event; other lines as `{ msg }`). */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code once it has exited and its last log lines are read. */
  exited: Promise<number>;
}

export interface ServerOptions {
  databaseUrl: string;
  /**
   * `app`: the real `app serve` (built-in job types only). `test-jobs`: the same boot path
   * (`createRuntime` + `serveRuntime`) with the test job types registered
   * (test/support/app-with-test-jobs.ts).
   */
  entry?: "app" | "test-jobs";
  /** For `test-jobs`: grace period, journal file and runner options. */
  testJobs?: TestAppOptions;
  /** For `app`: extra arguments after `serve`. */
  args?: string[];
  /** On top of the test secrets, HOST/PORT and FRESHNESS_DIR; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Runs it through this command prefix, e.g. setpriv as another user (its working dir is then open to all). */
  prefix?: string[];
  /** For `app`: the program instead of `bun src/cli/index.ts`, e.g. a compiled binary another user can read. */
  program?: string[];
  /** Runs it with Debian's libfaketime at this offset (e.g. "+5m"): its wall clock is off by that much. */
  faketime?: string;
}

/** Starts a server on a port of its own (PORT=0) and waits until it listens; SIGKILLed after the test. */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const dir = tempDir("cronjobs-server-");
  const command = options.entry === "test-jobs"
    ? [bun, path.join(root, "test/support/app-with-test-jobs.ts"), "serve", JSON.stringify(options.testJobs ?? {})]
    : [...(options.program ?? [bun, path.join(root, "src/cli/index.ts")]), "serve", ...(options.args ?? [])];
  if (options.prefix) fs.chmodSync(dir, 0o777);
  // libfaketime preloaded into the server itself (what `faketime -f` does), not through the
  // `faketime` wrapper: the wrapper forks, so killing it would leave the server running.
  const faked = options.faketime ? { LD_PRELOAD: "/usr/$LIB/faketime/libfaketime.so.1", FAKETIME: options.faketime } : {};
  const env: Record<string, string | undefined> = {
    ...process.env, ...faked, DATABASE_URL: options.databaseUrl, HOST: "127.0.0.1", PORT: "0", ...SERVER_SECRETS_ENV,
    FRESHNESS_DIR: path.join(dir, "freshness"), DB_POOL_SIZE: "12", ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = Bun.spawn([...(options.prefix ?? []), ...command], {
    cwd: dir, env: env as Record<string, string>, stdin: "ignore", stdout: "ignore", stderr: "pipe",
  });
  running.add(child);
  void child.exited.then(() => running.delete(child));
  onCleanup(async () => {
    child.kill("SIGKILL");
    await child.exited;
  });
  const log = followServerLog(child.stderr, child.exited);
  const exited = child.exited.then(async (code) => { await log.read.catch(() => {}); return code; });
  const url = await log.url;
  const lines = log.lines;
  return { child, pid: child.pid, url, runner: `${hostname()}/${child.pid}`, logs: () => lines, exited };
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
