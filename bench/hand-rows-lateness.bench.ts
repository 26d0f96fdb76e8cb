/**
 * Lateness of rows written by hand while `app serve` runs (issue 12, SPEC §2): the web
 * application inserts one-time rows (seed columns only) through a plain connection of its own,
 * each a random 0.1–3 s before its `run_at`, the `run_at`s at random moments over 20 s; the
 * server notices them by itself (SQLite: PRAGMA data_version; PostgreSQL: the trigger's notice),
 * with no POST, crontab or NOTIFY from the writer. Lateness = history `started_at` − `run_at`.
 * On SQLite, and on PostgreSQL when a server answers (BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test).
 */
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fmt, percentile, serve, until } from "./hand-rows-support.ts";

const ROWS = Number(process.env.BENCH_LATE_ROWS ?? 400);
const SPREAD_MS = Number(process.env.BENCH_LATE_SPREAD_MS ?? 20_000);
const LEAD_MS = 3_000;
const ADMIN_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-late-"));

interface Writer {
  insert(name: string, runAt: number): Promise<void>;
  /** Every run so far: the job's name and when it started (ms). */
  runs(): Promise<{ name: string; startedAt: number }[]>;
}

/** Inserts ROWS rows at random moments before their random `run_at`s; answers the sorted lateness of their runs. */
async function measure(writer: Writer): Promise<number[]> {
  const start = Date.now() + LEAD_MS;
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const runAt = Math.round(start + Math.random() * SPREAD_MS);
    return { name: `late-${i}`, runAt, insertAt: runAt - 100 - Math.random() * (LEAD_MS - 100) };
  }).sort((a, b) => a.insertAt - b.insertAt);
  for (const row of rows) {
    const wait = row.insertAt - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    await writer.insert(row.name, row.runAt);
  }
  const runAt = new Map(rows.map((row) => [row.name, row.runAt]));
  let runs: { name: string; startedAt: number }[] = [];
  await until("every run", async () => (runs = await writer.runs()).length >= ROWS, 30_000, 100);
  return runs.map((run) => run.startedAt - runAt.get(run.name)!).sort((a, b) => a - b);
}

function report(backend: string, late: number[]): void {
  const never = late.filter((ms) => ms < 0).length;
  console.log(`| ${backend}: ${fmt(ROWS)} hand-written rows due over ${SPREAD_MS / 1000} s, start lateness p50; p99; max | ${percentile(late, 50).toFixed(0)} ms; ${percentile(late, 99).toFixed(0)} ms; ${late.at(-1)!.toFixed(0)} ms${never ? ` (${never} early!)` : ""} | p50 ≤ 100 ms, p99 ≤ 500 ms |`);
}

console.log(`| measure | value | goal |\n|---|---|---|`);

// SQLite: the web application's own bun:sqlite connection on the server's file.
{
  const file = path.join(dir, "late.db");
  const server = await serve(file, dir);
  const db = new Database(file);
  db.run("PRAGMA busy_timeout = 10000");
  const insert = db.prepare<never, [string, number]>("INSERT INTO cron_jobs (name, job_type, run_at, is_active) VALUES (?, 'noop', ?, 1)");
  try {
    report("SQLite", await measure({
      insert: async (name, runAt) => { insert.run(name, runAt); },
      runs: async () => db.query<{ name: string; startedAt: number }, []>("SELECT name, started_at AS startedAt FROM cron_job_runs").all(),
    }));
  } finally {
    db.close();
    await server.stop();
  }
}

// PostgreSQL: a plain client (not the app's), one server.
{
  const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1)) || "postgres";
  const admin = new SQL(ADMIN_URL, { database: databaseOf(ADMIN_URL), max: 1, connectionTimeout: 3 });
  let answers = true;
  try {
    await admin`SELECT 1`;
  } catch {
    answers = false;
  }
  if (!answers) {
    console.log(`(PostgreSQL: skipped, no server answers at ${ADMIN_URL.replace(/\/\/[^@/]*@/, "//…@")})`);
  } else {
    const name = `cronjobs_bench_${randomBytes(5).toString("hex")}`;
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const server = await serve(url.toString(), dir);
    const web = new SQL(url.toString(), { database: name, max: 2 });
    try {
      report("PostgreSQL", await measure({
        insert: async (job, runAt) => { await web`INSERT INTO cron_jobs (name, job_type, run_at) VALUES (${job}, 'noop', ${new Date(runAt)})`; },
        runs: async () => (await web`SELECT name, started_at FROM cron_job_runs`).map((r: { name: string; started_at: Date }) => ({ name: r.name, startedAt: r.started_at.getTime() })),
      }));
    } finally {
      await web.close();
      await server.stop();
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.close();
    }
  }
}
fs.rmSync(dir, { recursive: true, force: true });
