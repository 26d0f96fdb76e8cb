import fs from "node:fs";
import path from "node:path";
import { systemClock } from "../../src/clock.ts";
import type { SqliteStore } from "../../src/store/sqlite-store.ts";
import { freshStore, onCleanup } from "../support/db.ts";
import { testApp } from "../support/server.ts";

export const ROOT = path.resolve(import.meta.dir, "../..");
/** The Bun running the tests; it also runs the CLI from source and the fixture suites. */
export const BUN = process.execPath;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `app <args>` from source as crontab would: a fresh process with only `env` (and PATH),
 * so nothing of the test process's configuration leaks in. Killed after the test if still running.
 */
export function startCli(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const started = performance.now();
  const proc = Bun.spawn([BUN, path.join(ROOT, "src/cli/index.ts"), ...args], {
    cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env }, stdout: "pipe", stderr: "pipe",
  });
  onCleanup(() => { proc.kill("SIGKILL"); });
  const done = (async (): Promise<CliResult> => {
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return { code, stdout, stderr, ms: performance.now() - started };
  })();
  return { proc, done };
}

export const runCli = (args: string[], env: Record<string, string> = {}, cwd = ROOT) => startCli(args, env, cwd).done;

/** The real HTTP app over a fresh SQLite database, listening on a free loopback port, on the real clock. */
export function startCronServer(port = 0): { url: string; port: number; store: SqliteStore; stop: () => Promise<void> } {
  const { store } = freshStore();
  const { app } = testApp(store, { clock: systemClock });
  app.listen({ hostname: "127.0.0.1", port });
  let stopped = false;
  const stop = async () => {
    if (!stopped) await app.stop(true);
    stopped = true;
  };
  onCleanup(stop);
  const actual = app.server!.port!;
  return { url: `http://127.0.0.1:${actual}`, port: actual, store, stop };
}

export interface Received {
  method: string;
  path: string;
  body: string;
}

/** A real HTTP receiver on loopback (webhook or ping target); `failWith` makes it answer that status. */
export function startReceiver(port = 0) {
  const received: Received[] = [];
  const state = { failWith: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(request) {
      received.push({ method: request.method, path: new URL(request.url).pathname, body: await request.text() });
      return state.failWith ? new Response("down", { status: state.failWith }) : new Response("ok");
    },
  });
  onCleanup(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}`, port: server.port!, received, state, stop: () => server.stop(true) };
}

/** Whether `pid` still runs (a zombie nobody reaped counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Polls until `fn` is true or `timeoutMs` passes. */
export async function waitFor(fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!fn()) {
    if (performance.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(20);
  }
}

export const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
