/**
 * PostgreSQL throughput (issue 6): drain 100,000 due one-time noop jobs through the real
 * runtime (store, database clock, runner with its default options; history rows included)
 * with one instance and with three — separate processes, each with its own pool — beside a
 * raw SQL loop on the same server that claims with SKIP LOCKED and deletes in batches of 500.
 * Each drain gets a fresh database seeded the same way, with API rows (`next_run_at` set, as
 * `jobs.create` writes them). Rounds alternate (raw, one instance, three instances),
 * BENCH_ROUNDS of them (default 3), medians reported, as in the SQLite drain. N: BENCH_JOBS
 * (default 100,000). Skipped with a notice when no server answers (BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test).
 */
import { SQL } from "bun";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PgStore } from "../src/store/pg-store.ts";

const N = Number(process.env.BENCH_JOBS ?? 100_000);
const ADMIN_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const worker = path.join(import.meta.dir, "pg-drain-worker.ts");
// The workers' working dir and secrets: nothing is generated in the checkout.
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-pg-"));
const WORKER_SECRETS = { CRON_SECRET: "bench-cron-secret-0123456789", ADMIN_TOKEN: "bench-admin-token-0123456789", JOB_SIGNING_SECRET: "bench-job-signing-secret-0123456789" };

const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1)) || "postgres";
const admin = new SQL(ADMIN_URL, { database: databaseOf(ADMIN_URL), max: 1, connectionTimeout: 3 });
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** A fresh migrated database holding `N` due one-time noop jobs. */
async function seeded(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cronjobs_bench_${randomBytes(5).toString("hex")}`;
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await PgStore.open(url.toString(), { poolSize: 1 });
  await store.client.unsafe(`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at)
    SELECT 'job-' || i, 'noop', now() - interval '1 s', now() - interval '1 s' FROM generate_series(1, $1) AS i`, [N]);
  await store.client.unsafe("VACUUM ANALYZE cron_jobs");
  await store.close();
  return { url: url.toString(), drop: async () => { await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`); } };
}

async function readLine(reader: ReadableStreamDefaultReader<Uint8Array>, decoder: TextDecoder, carry: { text: string }): Promise<string> {
  for (;;) {
    const nl = carry.text.indexOf("\n");
    if (nl >= 0) {
      const line = carry.text.slice(0, nl);
      carry.text = carry.text.slice(nl + 1);
      return line;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`worker ended early: ${carry.text}`);
    carry.text += decoder.decode(value, { stream: true });
  }
}

/** Drains the seeded database with `instances` runtime processes started together; answers jobs/s. */
async function drainWith(instances: number): Promise<{ rate: number; seconds: number; split: number[] }> {
  const { url, drop } = await seeded();
  try {
    const children = Array.from({ length: instances }, () => Bun.spawn([process.execPath, worker], {
      cwd: workDir, env: { ...process.env, ...WORKER_SECRETS, DATABASE_URL: url, PORT: "0" }, stdin: "pipe", stdout: "pipe", stderr: "inherit",
    }));
    const readers = children.map((c) => ({ reader: c.stdout.getReader(), decoder: new TextDecoder(), carry: { text: "" } }));
    for (const r of readers) {
      const line = await readLine(r.reader, r.decoder, r.carry);
      if (line !== "ready") throw new Error(`worker said ${line}`);
    }
    const started = performance.now();
    for (const c of children) { c.stdin.write("go\n"); c.stdin.flush(); }
    const results = await Promise.all(readers.map(async (r) => JSON.parse(await readLine(r.reader, r.decoder, r.carry)) as { succeeded: number; failed: number }));
    const seconds = (performance.now() - started) / 1000;
    for (const c of children) { c.stdin.end(); await c.exited; }
    const check = new SQL(url, { database: databaseOf(url), max: 1 });
    const [row] = await check`SELECT (SELECT count(*)::int FROM cron_jobs) AS left, (SELECT count(*)::int FROM cron_job_runs) AS runs,
      (SELECT count(DISTINCT job_id)::int FROM cron_job_runs) AS jobs`;
    await check.close();
    const succeeded = results.reduce((sum, r) => sum + r.succeeded, 0);
    if (row.left !== 0 || row.runs !== N || row.jobs !== N || succeeded !== N) {
      throw new Error(`${instances} instance(s): ${succeeded} succeeded, ${row.runs} history rows for ${row.jobs} jobs, ${row.left} left; expected ${N}`);
    }
    return { rate: N / seconds, seconds, split: results.map((r) => r.succeeded) };
  } finally {
    await drop();
  }
}

/** The baseline: one connection claiming 500 due rows with SKIP LOCKED and deleting them, per transaction. */
async function rawDrain(): Promise<{ rate: number; seconds: number }> {
  const { url, drop } = await seeded();
  const sql = new SQL(url, { database: databaseOf(url), max: 1 });
  try {
    let total = 0;
    const started = performance.now();
    for (;;) {
      const n = await sql.begin(async (tx) => {
        const ids = await tx.unsafe<{ id: string }[]>(`
          UPDATE cron_jobs SET locked_by = 'raw', locked_until = now() + interval '60 s', attempts = attempts + 1
          WHERE id IN (SELECT id FROM cron_jobs WHERE is_active AND next_run_at <= now() AND (locked_until IS NULL OR locked_until <= now())
                       ORDER BY next_run_at LIMIT 500 FOR UPDATE SKIP LOCKED)
          RETURNING id`);
        if (ids.length > 0) await tx.unsafe(`DELETE FROM cron_jobs WHERE id = ANY($1::text::bigint[])`, [`{${ids.map((r) => r.id).join(",")}}`]);
        return ids.length;
      });
      if (n === 0) break;
      total += n;
    }
    const seconds = (performance.now() - started) / 1000;
    if (total !== N) throw new Error(`raw loop drained ${total}`);
    return { rate: N / seconds, seconds };
  } finally {
    await sql.close();
    await drop();
  }
}

const reachable = await admin`SELECT 1`.then(() => true, () => false);
if (!reachable) {
  console.log(`PostgreSQL benchmark SKIPPED: no server answers at ${ADMIN_URL.replace(/\/\/[^@/]*@/, "//…@")} (set BENCH_DATABASE_URL)`);
} else {
  const [{ version }] = await admin`SELECT current_setting('server_version') AS version`;
  const runs = { raw: [] as { rate: number; seconds: number }[], one: [] as { rate: number; seconds: number; split: number[] }[], three: [] as { rate: number; seconds: number; split: number[] }[] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.raw.push(await rawDrain());
    runs.one.push(await drainWith(1));
    runs.three.push(await drainWith(3));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rates = (list: { rate: number }[]) => list.map((r) => r.rate);
  const span = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  const perRound = (f: (i: number) => number, digits: number, unit: string) => Array.from({ length: ROUNDS }, (_, i) => `${f(i).toFixed(digits)}${unit}`).join(", ");
  const oneOverRaw = Array.from({ length: ROUNDS }, (_, i) => runs.one[i]!.rate / runs.raw[i]!.rate);
  const threeOverOne = Array.from({ length: ROUNDS }, (_, i) => runs.three[i]!.rate / runs.one[i]!.rate);
  const threeMedian = runs.three.find((r) => r.rate === median(rates(runs.three)))!;
  console.log(`PostgreSQL ${version}, ${fmt(N)} due one-time noop jobs per drain (API rows: next_run_at set), a fresh database each; `
    + `${ROUNDS} rounds alternating raw, one instance, three instances; medians.\n`);
  console.log(`| measure | value | goal |\n|---|---|---|`);
  console.log(`| raw SQL loop: claim 500 with SKIP LOCKED + delete, one connection, median of ${ROUNDS} | ${fmt(median(rates(runs.raw)))} jobs/s (${span(rates(runs.raw))}) | baseline |`);
  console.log(`| drain, one instance (runtime process, history rows included), median of ${ROUNDS} | ${fmt(median(rates(runs.one)))} jobs/s (${span(rates(runs.one))}) | ≥ 20,000 jobs/s |`);
  console.log(`| one instance / raw loop, median of the rounds | ${(median(oneOverRaw) * 100).toFixed(0)}% (${perRound((i) => oneOverRaw[i]! * 100, 0, "%")}) | ≥ 30% |`);
  console.log(`| drain, three instances (processes, own pools), median of ${ROUNDS} | ${fmt(median(rates(runs.three)))} jobs/s (${span(rates(runs.three))}; split of the median round ${threeMedian.split.map(fmt).join(" / ")}) | faster than one |`);
  console.log(`| three / one, median of the rounds | ${median(threeOverOne).toFixed(2)}× (${perRound((i) => threeOverOne[i]!, 2, "×")}) | > 1× |`);
}
fs.rmSync(workDir, { recursive: true, force: true });
await admin.close();
