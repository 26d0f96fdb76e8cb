/**
 * Rows written by hand (issue 12, SPEC §2/§4), on the embedded default (SQLite), against a real
 * `app serve` process:
 * 1. drain of 100,000 one-time rows the web application inserts with the seed columns only (no
 *    `next_run_at`), timed from the insert's commit to the last history row, beside the same
 *    drain of rows written as the API writes them (`next_run_at` set) and a raw bun:sqlite
 *    claim+delete loop, in alternating rounds of the same run (medians reported);
 * 2. /healthz latency (sequential probes) during such a drain;
 * 3. CPU of an idle `app serve` over 60 s, with the watch of other writers (PRAGMA data_version)
 *    beside the server as it was before the watch (a `git archive` of the commit before
 *    migration 0002), both running side by side over the same minute.
 */
import { Database } from "bun:sqlite";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { cpuMs, fmt, median, percentile, root, serve, until } from "./hand-rows-support.ts";
import { rawDrain } from "./raw-loop.ts";

const N = Number(process.env.BENCH_JOBS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 60_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-hand-"));

/** The web application's connection: a plain bun:sqlite handle on the server's file. */
function webConnection(file: string): Database {
  const db = new Database(file);
  db.run("PRAGMA busy_timeout = 10000");
  return db;
}

/** Inserts `N` due one-time rows in one transaction; answers the time of the commit. */
function insertRows(db: Database, kind: "hand" | "api"): number {
  const at = Date.now() - 1_000;
  const columns = kind === "hand" ? "name, job_type, run_at, is_active" : "name, job_type, run_at, is_active, next_run_at";
  const values = kind === "hand" ? `'job-' || i, 'noop', ${at}, 1` : `'job-' || i, 'noop', ${at}, 1, ${at}`;
  db.transaction(() => {
    db.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N}) INSERT INTO cron_jobs (${columns}) SELECT ${values} FROM n`);
  }).immediate();
  return Date.now();
}

/** Waits until the server has written `N` history rows; answers the last one's finish time. */
async function lastHistoryRow(db: Database): Promise<number> {
  await until("the drain", () => db.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_job_runs").get()!.n >= N, 300_000, 100);
  return db.query<{ at: number }, []>("SELECT max(finished_at) AS at FROM cron_job_runs").get()!.at;
}

/** One drain through `app serve`: jobs/s from the insert's commit to the last history row; /healthz latencies when probing. */
async function serverDrain(kind: "hand" | "api", name: string, probe = false): Promise<{ rate: number; health: number[] }> {
  const file = path.join(dir, `${name}.db`);
  const server = await serve(file, dir);
  const db = webConnection(file);
  const health: number[] = [];
  let probing = false;
  const probeDrain = async () => {
    while (probing) {
      const t = performance.now();
      const res = await fetch(`${server.url}/healthz`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
      health.push(performance.now() - t);
    }
  };
  let prober = Promise.resolve();
  try {
    const committed = insertRows(db, kind);
    // Probed from the commit on: the latencies are those of a server draining.
    probing = probe;
    prober = probeDrain();
    const last = await lastHistoryRow(db);
    probing = false;
    await prober;
    const runs = db.query<{ n: number; jobs: number; ok: number }, []>(
      "SELECT count(*) AS n, count(DISTINCT job_id) AS jobs, count(*) FILTER (WHERE status = 'succeeded') AS ok FROM cron_job_runs").get()!;
    if (runs.n !== N || runs.jobs !== N || runs.ok !== N) throw new Error(`drained ${JSON.stringify(runs)}, expected ${N} single successful runs`);
    return { rate: N / ((last - committed) / 1000), health };
  } finally {
    probing = false;
    db.close();
    await server.stop();
  }
}

/** The raw loop on the same rows (the same file layout, migrated by the store). */
function rawRound(name: string): number {
  const file = path.join(dir, `${name}.db`);
  (SqliteStore.open(file)).close();
  const db = webConnection(file);
  insertRows(db, "api");
  const t = performance.now();
  const n = rawDrain(db);
  const rate = N / ((performance.now() - t) / 1000);
  db.close();
  if (n !== N) throw new Error(`raw loop drained ${n}`);
  return rate;
}

// 1. Drains, alternating rounds.
const rates = { raw: [] as number[], api: [] as number[], hand: [] as number[], handOfRaw: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const raw = rawRound(`raw-${round}`);
  const api = (await serverDrain("api", `api-${round}`)).rate;
  const hand = (await serverDrain("hand", `hand-${round}`)).rate;
  rates.raw.push(raw);
  rates.api.push(api);
  rates.hand.push(hand);
  rates.handOfRaw.push(hand / raw);
}
const span = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
console.log(`| measure | value | goal |\n|---|---|---|`);
console.log(`| drain ${fmt(N)} rows written by hand (seed columns only), app serve, commit → last history row, median of ${ROUNDS} | ${fmt(median(rates.hand))} jobs/s (${span(rates.hand)}) | ≥ 100,000 jobs/s |`);
console.log(`| drain ${fmt(N)} rows as the API writes them (next_run_at set), app serve, same timing, median of ${ROUNDS} | ${fmt(median(rates.api))} jobs/s (${span(rates.api)}) | beside it |`);
console.log(`| drain ${fmt(N)} jobs, raw bun:sqlite claim+delete loop, batches of 500, median of ${ROUNDS} | ${fmt(median(rates.raw))} jobs/s (${span(rates.raw)}) | baseline |`);
console.log(`| hand-written drain / raw, median of the rounds | ${(median(rates.handOfRaw) * 100).toFixed(0)}% (${rates.handOfRaw.map((r) => `${(r * 100).toFixed(0)}%`).join(", ")}) | ≥ 30% |`);

// 2. /healthz during a hand-written drain.
const probed = await serverDrain("hand", "hand-probed", true);
const health = [...probed.health].sort((a, b) => a - b);
console.log(`| /healthz during a ${fmt(N)}-row hand-written drain (${fmt(health.length)} sequential probes): p50; p99; max | ${percentile(health, 50).toFixed(2)} ms; ${percentile(health, 99).toFixed(2)} ms; ${health.at(-1)!.toFixed(2)} ms (drain ${fmt(probed.rate)} jobs/s while probed) | p99 ≤ 100 ms |`);

// 3. Idle CPU with and without the watch, side by side.
function git(args: string[]): string | null {
  const out = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  return out.exitCode === 0 ? out.stdout.toString().trim() : null;
}
const added = git(["log", "--diff-filter=A", "--format=%H", "--", "db/migrations/sqlite/0002_hand_rows.sql"])?.split("\n").at(-1);
const before = process.env.BENCH_HAND_BASELINE ?? (added ? `${added}^` : null);
let baselineTree: string | null = null;
if (before) {
  const archive = Bun.spawnSync(["git", "archive", "--format=tar", before], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (archive.exitCode === 0) {
    baselineTree = path.join(dir, "baseline");
    fs.mkdirSync(baselineTree);
    Bun.spawnSync(["tar", "-x", "-C", baselineTree], { stdin: archive.stdout });
    fs.symlinkSync(fs.realpathSync(path.join(root, "node_modules")), path.join(baselineTree, "node_modules"));
  }
}
if (!baselineTree) {
  console.log(`(idle CPU: no baseline tree: ${before ? `cannot archive ${before}` : "no git history of migration 0002"})`);
} else {
  const watching = await serve(path.join(dir, "idle-watch.db"), dir);
  const old = await serve(path.join(dir, "idle-before.db"), dir, baselineTree);
  await Bun.sleep(3_000); // past start-up and the first tick
  const start = { watching: cpuMs(watching.pid), old: cpuMs(old.pid), at: performance.now() };
  await Bun.sleep(IDLE_MS);
  const seconds = (performance.now() - start.at) / 1000;
  const share = (pid: number, from: number) => (cpuMs(pid) - from) / 1000 / seconds;
  const used = { watching: share(watching.pid, start.watching), old: share(old.pid, start.old) };
  await watching.stop();
  await old.stop();
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`| idle \`app serve\` CPU over ${Math.round(seconds)} s, with the watch; before it (${before!.slice(0, 12)}); difference | ${pct(used.watching)}; ${pct(used.old)}; ${pct(used.watching - used.old)} of a core | difference ≤ 1% of a core |`);
}
fs.rmSync(dir, { recursive: true, force: true });
