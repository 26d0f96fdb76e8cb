/**
 * `http` jobs (issue 13): drain 10,000 due one-time `http` jobs through the real runner (default
 * options: 10 at once; history rows included) against a loopback target in another process
 * that answers at once, beside 10,000 `noop` jobs drained the same way, in the same run.
 * Alternating rounds, medians reported. On this 2-core machine the target shares the cores.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { systemClock } from "../src/clock.ts";
import { defaultRegistry } from "../src/jobs/registry.ts";
import { silentLogger } from "../src/logger.ts";
import { Runner } from "../src/runner/runner.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";

const N = Number(process.env.BENCH_HTTP_JOBS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-http-"));
const registry = defaultRegistry([], { jobSigningSecret: "bench-signing-secret-0123456789" });

const target = Bun.spawn([process.execPath, path.join(import.meta.dir, "http-target.ts")], { stdout: "pipe", stderr: "inherit" });
const reader = target.stdout.getReader();
let first = "";
while (!first.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the target exited before it listened");
  first += new TextDecoder().decode(value);
}
reader.releaseLock();
const targetUrl = `http://127.0.0.1:${first.trim()}`;
const answered = async () => Number(await (await fetch(`${targetUrl}/count`)).text());

function seed(file: string, jobType: string, payload: string | null): SqliteStore {
  const store = SqliteStore.open(file);
  const at = Date.now() - 1000;
  const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, payload, run_at, next_run_at) VALUES (?, ?, ?, ?, ?)");
  store.client.transaction(() => {
    for (let i = 0; i < N; i++) insert.run(`job-${i}`, jobType, payload, at, at);
  })();
  return store;
}

async function drain(jobType: "http" | "noop", round: number): Promise<number> {
  const payload = jobType === "http" ? JSON.stringify({ url: `${targetUrl}/hook`, body: { round } }) : null;
  const store = seed(path.join(dir, `${jobType}-${round}.db`), jobType, payload);
  const runner = new Runner({ store, registry, clock: systemClock, logger: silentLogger }, { budgetMs: 600_000 });
  const before = jobType === "http" ? await answered() : 0;
  const t = performance.now();
  const tick = await runner.runDueJobs();
  const rate = N / ((performance.now() - t) / 1000);
  const history = store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_job_runs WHERE status = 'succeeded'").get()!.n;
  if (tick.succeeded !== N || history !== N) throw new Error(`${jobType}: ${tick.succeeded} succeeded, ${history} history rows, expected ${N} (${JSON.stringify(tick.results.find((r) => r.error))})`);
  if (jobType === "http" && (await answered()) - before !== N) throw new Error(`http: the target answered ${(await answered()) - before} requests, expected ${N}`);
  await store.close();
  return rate;
}

const rates = { noop: [] as number[], http: [] as number[] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    rates.noop.push(await drain("noop", round));
    rates.http.push(await drain("http", round));
  }
} finally {
  target.kill();
  await target.exited;
  fs.rmSync(dir, { recursive: true, force: true });
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const span = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
console.log(`| measure | value | goal |\n|---|---|---|`);
console.log(`| drain ${fmt(N)} \`http\` jobs (signed POST to a loopback target in another process, 10 at once), median of ${ROUNDS} | ${fmt(median(rates.http))} jobs/s (${span(rates.http)}) | ≥ 5,000 jobs/s |`);
console.log(`| drain ${fmt(N)} \`noop\` jobs, same runner options, median of ${ROUNDS} | ${fmt(median(rates.noop))} jobs/s (${span(rates.noop)}) | baseline |`);
