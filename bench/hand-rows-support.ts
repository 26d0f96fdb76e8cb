/**
 * Shared by the hand-written-rows benchmarks (issue 12): `app serve` processes on a database of
 * their own, started from a source tree, and the statistics the tables print.
 */
import fs from "node:fs";
import path from "node:path";

export const root = path.resolve(import.meta.dir, "..");
export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
export const CRON_SECRET = "bench-cron-secret-0123456789abcdef";

export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

export interface Served {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `app serve` from `tree` on `databaseUrl` and waits until /healthz answers. */
export async function serve(databaseUrl: string, dir: string, tree = root): Promise<Served> {
  const port = freePort();
  const log = path.join(dir, `serve-${port}.log`);
  const child = Bun.spawn([process.execPath, "src/cli/index.ts", "serve"], {
    cwd: tree, stdout: "ignore", stderr: Bun.file(log),
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: "127.0.0.1", ADMIN_TOKEN, CRON_SECRET, FRESHNESS_DIR: path.join(dir, "fresh") },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || performance.now() > deadline) {
      throw new Error(`app serve did not start: ${fs.existsSync(log) ? fs.readFileSync(log, "utf8").slice(-2000) : ""}`);
    }
    await Bun.sleep(50);
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms (from /proc). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Polls `check` every `everyMs` until it answers true; throws after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
