/**
 * 1,000 cron jobs due in the same second (issue 12, SPEC §4), started by a real `app serve`'s
 * own timer (from source, real SQLite file): start lateness, `started_at − scheduled_for` of
 * each history row, p50 / p99 / max. Two paths:
 *   - by hand, as a web app writes rows: an INSERT of the seed columns and `cron` only, with
 *     `next_run_at` NULL; the server derives each row's slot;
 *   - through tRPC: `jobs.create` calls to the running server.
 * Each path has two bursts on one server: the first after it started (its runner code has
 * never run: the JIT is cold), then a second one of new jobs (rows written by hand while it
 * runs; tRPC calls again), as on a server that has been running. Beside them, the speed of
 * this machine in the same run: the raw claim+delete loop of the drain bench, so figures
 * from different runs and machines can be compared.
 * Beside it, the same measure on a baseline tree in the same run: this commit's tree with the
 * caches of parsed schedules (src/schedule/lru.ts) made to keep nothing; skipped without git,
 * or with BENCH_SCHEDULE_BASELINE=off.
 */
import { Database } from "bun:sqlite";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "../src/client.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { rawDrain } from "./raw-loop.ts";

const root = path.resolve(import.meta.dir, "..");
const JOBS = Number(process.env.BENCH_CRON_JOBS ?? 1000);
const ROUNDS = Number(process.env.BENCH_SCHEDULE_ROUNDS ?? 3);
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const CRON_SECRET = "bench-cron-secret-0123456789abcdef";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-schedule-"));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

/**
 * The tree the server runs from for the baseline, or null (with the reason printed) when there
 * is none: this commit's tree (a `git archive` of HEAD) with the schedule caches made to keep
 * nothing, so every run parses its cron expression and builds its zone formatter again.
 */
function baselineTree(): string | null {
  if (process.env.BENCH_SCHEDULE_BASELINE === "off") return null;
  const archive = Bun.spawnSync(["git", "archive", "--format=tar", "HEAD"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (archive.exitCode !== 0) {
    console.log(`(no baseline: git archive HEAD failed: ${archive.stderr.toString().trim()})`);
    return null;
  }
  const tree = path.join(dir, "baseline");
  fs.mkdirSync(tree);
  Bun.spawnSync(["tar", "-x", "-C", tree], { stdin: archive.stdout });
  fs.symlinkSync(fs.realpathSync(path.join(root, "node_modules")), path.join(tree, "node_modules"));
  fs.writeFileSync(path.join(tree, "src/schedule/lru.ts"), `
/** The baseline's cache: keeps nothing. */
export class LruCache<K, V> {
  constructor(readonly capacity: number) {}
  get size(): number { return 0; }
  get(_key: K): V | undefined { return undefined; }
  set(_key: K, _value: V): void {}
}
`);
  return tree;
}

/** A migrated database file and a way to start `app serve` on it from `tree`. */
function serverOn(tree: string, name: string) {
  const file = path.join(dir, `${name}.db`);
  const port = freePort();
  const env = { ...process.env, DATABASE_URL: file, PORT: String(port), ADMIN_TOKEN, CRON_SECRET, FRESHNESS_DIR: path.join(dir, "fresh") };
  const migrate = Bun.spawnSync([process.execPath, "src/cli/index.ts", "migrate"], { cwd: tree, env, stderr: "pipe" });
  if (migrate.exitCode !== 0) throw new Error(migrate.stderr.toString());
  const log = path.join(dir, `${name}.log`);
  return {
    file,
    url: `http://127.0.0.1:${port}`,
    /** The server's log (JSON lines on stderr) goes to a file, read back when something goes wrong. */
    log: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : ""),
    start: () => Bun.spawn([process.execPath, "src/cli/index.ts", "serve"], { cwd: tree, env, stdout: "ignore", stderr: Bun.file(log) }),
  };
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A whole second at least `leadMs` from now, and the daily cron expression (with seconds, UTC) of it. */
function slotAfter(leadMs: number): { slot: number; cron: string } {
  const slot = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  const d = new Date(slot);
  return { slot, cron: `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *` };
}

/** Lateness of every run of `slot` once all `JOBS` have started; checks that each ran once. */
async function lateness(file: string, slot: number): Promise<number[]> {
  const db = new Database(file);
  try {
    const count = () => db.query<{ n: number }, [number]>("SELECT count(*) AS n FROM cron_job_runs WHERE scheduled_for = ?").get(slot)!.n;
    await waitUntil(() => count() >= JOBS, 60_000, `${JOBS} runs`);
    await Bun.sleep(200); // a run twice would show now
    const ms = db.query<{ ms: number }, [number]>("SELECT started_at - scheduled_for AS ms FROM cron_job_runs WHERE scheduled_for = ? ORDER BY ms").all(slot).map((r) => r.ms);
    const jobs = db.query<{ n: number }, [number]>("SELECT count(DISTINCT job_id) AS n FROM cron_job_runs WHERE scheduled_for = ?").get(slot)!.n;
    if (ms.length !== JOBS || jobs !== JOBS) throw new Error(`${ms.length} runs of ${jobs} jobs for the slot, not ${JOBS} of ${JOBS}`);
    return ms;
  } finally {
    db.close();
  }
}

/** Lateness of the first burst after the server started and of a second one on the same server. */
interface Bursts {
  first: number[];
  later: number[];
}

/** Rows with the seed columns and `cron` only, written by hand in one transaction. */
function insertByHand(file: string, prefix: string, cron: string): void {
  const db = new Database(file);
  const insert = db.prepare("INSERT INTO cron_jobs (name, job_type, cron, timezone) VALUES (?, 'noop', ?, 'UTC')");
  db.transaction(() => { for (let i = 0; i < JOBS; i++) insert.run(`${prefix}-${i}`, cron); })();
  db.close();
}

/** By hand: the first burst written before the server starts, the second while it runs. */
async function byHand(tree: string, name: string): Promise<Bursts> {
  const server = serverOn(tree, name);
  const first = slotAfter(6_000);
  insertByHand(server.file, "hand-first", first.cron);
  const child = server.start();
  try {
    const firstLateness = await lateness(server.file, first.slot);
    const later = slotAfter(3_000);
    insertByHand(server.file, "hand-later", later.cron);
    return { first: firstLateness, later: await lateness(server.file, later.slot) };
  } catch (err) {
    throw new Error(`${(err as Error).message}; server log:\n${server.log()}`);
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

/** Through tRPC: `jobs.create` on the running server, 50 calls at a time, for each burst. */
async function throughTrpc(tree: string, name: string): Promise<Bursts> {
  const server = serverOn(tree, name);
  const child = server.start();
  const burst = async (prefix: string) => {
    const client = createClient({ url: server.url, token: ADMIN_TOKEN });
    const { slot, cron } = slotAfter(8_000);
    for (let i = 0; i < JOBS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, JOBS - i) }, (_, k) =>
        client.jobs.create.mutate({ name: `${prefix}-${i + k}`, jobType: "noop", cron, timezone: "UTC" })));
    }
    if (Date.now() >= slot) throw new Error("creating the jobs took longer than the lead before their slot");
    return lateness(server.file, slot);
  };
  try {
    await waitUntil(() => fetch(`${server.url}/healthz`).then((r) => r.ok, () => false), 30_000, "the server");
    return { first: await burst("trpc-first"), later: await burst("trpc-later") };
  } catch (err) {
    throw new Error(`${(err as Error).message}; server log:\n${server.log()}`);
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

/** This machine's speed in this run: the drain bench's raw loop over 100,000 due rows (jobs/s). */
function machineSpeed(): number {
  const file = path.join(dir, "raw.db");
  SqliteStore.open(file).close();
  const db = new Database(file);
  const insert = db.prepare("INSERT INTO cron_jobs (name, job_type, run_at, next_run_at) VALUES (?, 'noop', 0, 0)");
  db.transaction(() => { for (let i = 0; i < 100_000; i++) insert.run(`raw-${i}`); })();
  const started = performance.now();
  const drained = rawDrain(db);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return Math.round(drained / seconds);
}

const baseline = baselineTree();
const variants = [{ label: "cached (this tree)", tree: root }, ...(baseline ? [{ label: "baseline: no cache", tree: baseline }] : [])];
const results = new Map<string, { p50: number[]; p99: number[]; max: number[] }>();
const record = (key: string, sorted: number[]) => {
  const r = results.get(key) ?? { p50: [], p99: [], max: [] };
  r.p50.push(percentile(sorted, 50));
  r.p99.push(percentile(sorted, 99));
  r.max.push(sorted.at(-1)!);
  results.set(key, r);
};
const speeds: number[] = [];
// Rounds alternate the variants, so a busy minute on a shared host weighs on both alike.
for (let round = 0; round < ROUNDS; round++) {
  speeds.push(machineSpeed());
  for (const [v, variant] of variants.entries()) {
    const hand = await byHand(variant.tree, `hand-${v}-${round}`);
    record(`${variant.label}|by hand, first burst after start`, hand.first);
    record(`${variant.label}|by hand, a later burst`, hand.later);
    const trpc = await throughTrpc(variant.tree, `trpc-${v}-${round}`);
    record(`${variant.label}|through tRPC, first burst after start`, trpc.first);
    record(`${variant.label}|through tRPC, a later burst`, trpc.later);
  }
}

console.log("| measure | value | goal |\n|---|---|---|");
console.log(`| this machine: raw bun:sqlite claim+delete loop, 100,000 due rows, median of ${ROUNDS} | ${median(speeds).toLocaleString("en-US")} jobs/s (${speeds.map((x) => x.toLocaleString("en-US")).join(", ")}) | reference |`);
for (const [key, r] of results) {
  const [label, path_] = key.split("|");
  const goal = label!.startsWith("cached") ? "p50 ≤ 10 ms, p99 ≤ 50 ms" : "before the cache";
  console.log(`| ${JOBS.toLocaleString("en-US")} cron jobs due in the same second, ${path_}, start lateness p50 / p99 / max, median of ${ROUNDS} rounds — ${label} | ${median(r.p50)} / ${median(r.p99)} / ${median(r.max)} ms (p50 per round: ${r.p50.join(", ")}; p99: ${r.p99.join(", ")}) | ${goal} |`);
}
fs.rmSync(dir, { recursive: true, force: true });
