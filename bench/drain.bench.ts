/**
 * Core throughput (issue 2, SPEC §2): drain N (BENCH_JOBS, default 100,000) due one-time noop
 * jobs through the real runner (history rows included), for both ways rows reach the table:
 *  - API rows: written as `jobs.create` writes them, `next_run_at` set (seeded by one SQL
 *    insert of those columns); timed from the tick's start to its end (its last history row).
 *  - hand-written rows: the web application's INSERT with the seed columns only (no
 *    `next_run_at`); timed from that INSERT's commit to the last history row, through a tick
 *    started right after the commit (it derives `next_run_at` in batches, then drains).
 * beside a raw bun:sqlite loop that claims and deletes API rows in batches of 500. Rounds
 * alternate (raw, API rows, hand-written rows), BENCH_ROUNDS of them (default 3), medians
 * reported. Then an empty tick with BENCH_FUTURE_JOBS (default 1,000,000) future jobs.
 * Idle RSS is measured on the compiled binary in bench/server.bench.ts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { systemClock } from "../src/clock.ts";
import { defaultRegistry } from "../src/jobs/registry.ts";
import { silentLogger } from "../src/logger.ts";
import { assembleRuntime } from "../src/runtime.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { rawDrain } from "./raw-loop.ts";

const N = Number(process.env.BENCH_JOBS ?? 100_000);
const FUTURE = Number(process.env.BENCH_FUTURE_JOBS ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-"));

/** `count` one-time noop jobs due at `at`, as the API writes them (`next_run_at` set). */
function seed(file: string, count: number, at: number): SqliteStore {
  const store = SqliteStore.open(file);
  const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, run_at, next_run_at) VALUES (?, 'noop', ?, ?)");
  store.client.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`job-${i}`, at, at);
  })();
  return store;
}

/** The web application's rows: the seed columns only, no `next_run_at`, in one transaction; answers when it committed. */
function insertByHand(store: SqliteStore, count: number, at: number): number {
  const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, user_id, run_at, is_active) VALUES (?, 'noop', NULL, ?, 1)");
  store.client.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`hand-${i}`, at);
  })();
  return performance.now();
}

function runnerOn(store: SqliteStore) {
  return assembleRuntime(store, defaultRegistry(), { clock: systemClock, logger: silentLogger, runner: { budgetMs: 600_000 } }).runner;
}

function historyRows(store: SqliteStore): number {
  return store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_job_runs").get()!.n;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const past = Date.now() - 1000;

// 1. Drain through the runner (API rows, hand-written rows) vs the raw loop, same machine, same
// run: alternating rounds, medians reported (single drains on a shared host vary by up to 2x
// from one minute to the next).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rates = { raw: [] as number[], api: [] as number[], hand: [] as number[], ratio: [] as number[], handRatio: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const rawStore = seed(path.join(dir, `raw-${round}.db`), N, past);
  let t = performance.now();
  const rawCount = rawDrain(rawStore.client);
  const rawRate = N / ((performance.now() - t) / 1000);
  if (rawCount !== N) throw new Error(`raw loop drained ${rawCount}`);
  await rawStore.close();

  const apiStore = seed(path.join(dir, `api-${round}.db`), N, past);
  const apiRunner = runnerOn(apiStore);
  t = performance.now();
  const apiTick = await apiRunner.runDueJobs();
  const apiRate = N / ((performance.now() - t) / 1000);
  if (apiTick.succeeded !== N || historyRows(apiStore) !== N) throw new Error(`runner drained ${apiTick.succeeded} API rows with ${historyRows(apiStore)} history rows, expected ${N}`);
  await apiStore.close();

  const handStore = SqliteStore.open(path.join(dir, `hand-${round}.db`));
  const handRunner = runnerOn(handStore);
  const committed = insertByHand(handStore, N, past);
  const handTick = await handRunner.runDueJobs();
  const handRate = N / ((performance.now() - committed) / 1000);
  if (handTick.succeeded !== N || historyRows(handStore) !== N) throw new Error(`runner drained ${handTick.succeeded} hand-written rows with ${historyRows(handStore)} history rows, expected ${N}`);
  await handStore.close();

  rates.raw.push(rawRate);
  rates.api.push(apiRate);
  rates.hand.push(handRate);
  rates.ratio.push(apiRate / rawRate);
  rates.handRatio.push(handRate / rawRate);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const span = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const pct = (xs: number[]) => `${(median(xs) * 100).toFixed(0)}% (${xs.map((r) => `${(r * 100).toFixed(0)}%`).join(", ")})`;
console.log(`| measure | value | goal |\n|---|---|---|`);
console.log(`| drain ${fmt(N)} jobs, runner, API rows (next_run_at set), history rows included, median of ${ROUNDS} | ${fmt(median(rates.api))} jobs/s (${span(rates.api)}) | ≥ 100,000 jobs/s |`);
console.log(`| drain ${fmt(N)} jobs, runner, hand-written rows (seed columns only, no next_run_at), INSERT's commit → last history row, median of ${ROUNDS} | ${fmt(median(rates.hand))} jobs/s (${span(rates.hand)}) | — |`);
console.log(`| drain ${fmt(N)} jobs, raw bun:sqlite claim+delete loop on API rows, batches of 500, median of ${ROUNDS} | ${fmt(median(rates.raw))} jobs/s (${span(rates.raw)}) | baseline |`);
console.log(`| runner (API rows) / raw, median of the rounds (each round: raw, API rows, hand-written rows) | ${pct(rates.ratio)} | ≥ 30% |`);
console.log(`| runner (hand-written rows) / raw, median of the rounds | ${pct(rates.handRatio)} | — |`);

// 2. An empty tick while 1,000,000 future jobs sit in the table.
const bigStore = seed(path.join(dir, "big.db"), FUTURE, Date.now() + 86_400_000);
let t: number;
const idle = runnerOn(bigStore);
await idle.runDueJobs(); // the first tick also prunes history; measure the steady state
const samples: number[] = [];
for (let i = 0; i < 200; i++) {
  t = performance.now();
  const r = await idle.runDueJobs();
  samples.push(performance.now() - t);
  if (r.claimed !== 0) throw new Error("a future job was claimed");
}
samples.sort((a, b) => a - b);
console.log(`| empty tick, ${fmt(FUTURE)} future jobs (API rows) (median of 200; p99) | ${samples[100]!.toFixed(3)} ms; ${samples[198]!.toFixed(3)} ms | ≤ 2 ms |`);
await bigStore.close();

fs.rmSync(dir, { recursive: true, force: true });
