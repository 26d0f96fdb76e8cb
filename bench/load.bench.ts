/**
 * Load (issue 5): `wrk` on loopback against the compiled `app serve` on the embedded SQLite
 * default, 1,000 future jobs in the table: `POST /api/cron/run` with nothing due, tRPC
 * `jobs.list` (20 per page) and, as the baseline of a bare route, `GET /healthz`. Each run lasts
 * BENCH_LOAD_SECONDS (default 10) with BENCH_LOAD_CONNECTIONS connections (default 32).
 * The binary is built here from the current tree with the flags of `npm run build`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { BUILT_AS, compiledApp } from "./build.ts";

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 32);
const THREADS = Math.max(1, Math.min(2, navigator.hardwareConcurrency));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-load-"));
const cronSecret = "load-cron-secret-0123456789";
const adminToken = "load-admin-token-0123456789";

if (!Bun.which("wrk")) {
  throw new Error("wrk is not installed (Debian package wrk)");
}

/** Parses wrk's `--latency` report into requests/s and latency percentiles (ms). */
function parseWrk(out: string) {
  const ms = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!;
  const pct = (p: number) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return m ? ms(m[1]!, m[2]!) : Number.NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50: pct(50),
    p99: pct(99),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors: (.*)/.exec(out)?.[1] ?? "none",
  };
}

async function wrk(url: string, script: string): Promise<ReturnType<typeof parseWrk>> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.lua`);
  fs.writeFileSync(file, script);
  const proc = Bun.spawn(["wrk", `-t${THREADS}`, `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", file, url], { stdout: "pipe", stderr: "pipe" });
  const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
  if (code !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  return parseWrk(out);
}

const binary = await compiledApp();
const file = path.join(dir, "data", "app.db");
const seed = SqliteStore.open(file);
const future = Date.now() + 86_400_000;
seed.client.transaction(() => {
  const insert = seed.client.prepare("INSERT INTO cron_jobs (name, job_type, run_at, next_run_at) VALUES (?, 'noop', ?, ?)");
  for (let i = 0; i < 1000; i++) insert.run(`future-${i}`, future, future);
})();
await seed.close();

const server = Bun.spawn([binary, "serve"], {
  cwd: dir, stdout: "ignore", stderr: "pipe",
  env: {
    PATH: process.env.PATH ?? "", DATABASE_URL: file, HOST: "127.0.0.1", PORT: "0", CRON_SECRET: cronSecret, ADMIN_TOKEN: adminToken,
    JOB_SIGNING_SECRET: "load-job-signing-secret-0123456789", FRESHNESS_DIR: path.join(dir, "freshness"),
  },
});
try {
  const reader = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  let url: string | undefined;
  while (url === undefined) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`app serve exited: ${log}`);
    log += chunk.value;
    url = /"msg":"listening","url":"([^"]+)"/.exec(log)?.[1];
  }
  void (async () => { while (!(await reader.read()).done); })();

  const post = `wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer ${cronSecret}"\n`;
  const bearer = `wrk.headers["Authorization"] = "Bearer ${adminToken}"\n`;
  const list = `${url}/trpc/jobs.list?input=${encodeURIComponent(JSON.stringify({ limit: 20 }))}`;
  // Sanity: each endpoint answers 200 before it is loaded.
  for (const [target, init] of [[`${url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${cronSecret}` } }], [list, { headers: { authorization: `Bearer ${adminToken}` } }]] as const) {
    const res = await fetch(target, init);
    if (res.status !== 200) throw new Error(`${target}: ${res.status} ${await res.text()}`);
  }

  const rows: [string, ReturnType<typeof parseWrk>][] = [
    ["`POST /api/cron/run`, nothing due", await wrk(`${url}/api/cron/run`, post)],
    ["tRPC `jobs.list` (GET, 20 of 1,000 jobs)", await wrk(list, bearer)],
    ["`GET /healthz` (bare route, baseline)", await wrk(`${url}/healthz`, "")],
  ];
  console.log(`wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --latency, loopback, compiled app serve (${BUILT_AS}) on SQLite (1,000 future jobs, written by hand with next_run_at)\n`);
  console.log("| endpoint | requests/s | p50 | p99 | requests | non-2xx | socket errors |\n|---|---|---|---|---|---|---|");
  for (const [name, r] of rows) {
    console.log(`| ${name} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.requests.toLocaleString("en-US")} | ${r.non2xx} | ${r.errors} |`);
  }
  for (const [name, r] of rows) if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} responses were not 2xx`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  fs.rmSync(dir, { recursive: true, force: true });
}
