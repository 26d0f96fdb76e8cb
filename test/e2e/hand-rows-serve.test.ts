/**
 * Rows the web application writes straight into cron_jobs, against real `app serve` processes
 * (SPEC §2, §4): seen within milliseconds of their commit with no POST, crontab or NOTIFY from
 * the writer, by every server on one PostgreSQL database; a hand UPDATE takes effect the same way;
 * a 100,000-row backlog drains with every job run once while /healthz keeps answering promptly.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { postgresAvailable } from "../support/backends.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { startServer, waitUntil } from "../support/server-process.ts";
import { startInstance, waitFor } from "../support/pg-instances.ts";
import { freshPgDatabase, pgClient } from "../support/pg.ts";

/** A server on a fresh SQLite file, and the web application's own connection to that file. */
async function sqliteServer() {
  const file = path.join(tempDir("cronjobs-hand-rows-"), "app.db");
  const server = await startServer({ databaseUrl: file });
  const web = new Database(file);
  web.run("PRAGMA busy_timeout = 5000");
  onCleanup(() => web.close());
  const runs = () => web.query<{ job_id: number; name: string; started_at: number; scheduled_for: number | null }, []>(
    "SELECT job_id, name, started_at, scheduled_for FROM cron_job_runs ORDER BY id").all();
  return { server, web, runs };
}

/** A web application on loopback that answers every request after `delayMs`: an http job that long. */
function slowTarget(delayMs: number) {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async () => { await Bun.sleep(delayMs); return new Response("done"); } });
  onCleanup(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/slow` };
}

describe("rows written by hand while app serve runs (SQLite)", () => {
  test("a row inserted by plain SQL (seed columns only) 3 s ahead starts within 1 s of its run_at", async () => {
    const { web, runs } = await sqliteServer();
    const runAt = Date.now() + 3_000;
    web.run(`INSERT INTO cron_jobs (name, job_type, user_id, run_at, is_active) VALUES ('hand', 'noop', NULL, ${runAt}, 1)`);
    expect(await waitUntil(() => runs().length > 0, 10_000)).toBe(true);
    const [run] = runs();
    expect(run!.name).toBe("hand");
    const late = run!.started_at - runAt;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1_000);
  }, 20_000);

  test("a hand UPDATE moving run_at an hour later: nothing runs at the old time", async () => {
    const { web, runs } = await sqliteServer();
    const runAt = Date.now() + 2_000;
    web.run(`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('moved', 'noop', ${runAt})`);
    web.run(`UPDATE cron_jobs SET run_at = ${runAt + 3_600_000} WHERE name = 'moved'`);
    const nextRunAt = () => web.query<{ at: number | null }, []>("SELECT next_run_at AS at FROM cron_jobs WHERE name = 'moved'").get()?.at;
    // The server derives the new time (the trigger cleared the old one).
    expect(await waitUntil(() => nextRunAt() === runAt + 3_600_000, 5_000, 20)).toBe(true);
    await Bun.sleep(Math.max(0, runAt + 1_000 - Date.now()));
    expect(runs()).toEqual([]);
    expect(nextRunAt()).toBe(runAt + 3_600_000);
  }, 20_000);

  test("100,000 hand-written rows (one-time and interval, seed columns only) drain with every job run once and /healthz answering throughout", async () => {
    const { server, web } = await sqliteServer();
    const now = Date.now();
    // The ids are read before the commit: the server starts deleting the one-time rows at once.
    const ids = web.transaction(() => {
      web.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
        INSERT INTO cron_jobs (name, job_type, run_at, is_active) SELECT 'once-' || i, 'noop', ${now - 1_000}, 1 FROM n`);
      // Interval rows without run_at: the server derives next_run_at, in batches.
      web.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
        INSERT INTO cron_jobs (name, job_type, interval_minutes, is_active) SELECT 'every-' || i, 'noop', 60, 1 FROM n`);
      return web.query<{ lo: number; hi: number }, []>("SELECT min(id) AS lo, max(id) AS hi FROM cron_jobs").get()!;
    })();
    const count = () => web.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_job_runs").get()!.n;
    const health: { status: number; sentAt: number; answeredAt: number; ms: number }[] = [];
    let done = false;
    const probe = (async () => {
      while (!done) {
        const sentAt = Date.now();
        const began = performance.now();
        const { status } = await fetch(`${server.url}/healthz`);
        health.push({ status, sentAt, answeredAt: Date.now(), ms: performance.now() - began });
      }
    })();
    const drained = await waitUntil(() => count() >= 100_000, 120_000, 100);
    done = true;
    await probe;
    expect(drained).toBe(true);
    expect(web.query("SELECT count(*) AS runs, count(DISTINCT job_id) AS jobs, min(job_id) AS lo, max(job_id) AS hi, count(*) FILTER (WHERE status <> 'succeeded') AS failed FROM cron_job_runs").get())
      .toEqual({ runs: 100_000, jobs: 100_000, lo: ids.lo, hi: ids.hi, failed: 0 });
    expect(web.query("SELECT count(*) FILTER (WHERE interval_minutes IS NULL) AS once, count(*) FILTER (WHERE last_run_at IS NOT NULL) AS ran FROM cron_jobs").get())
      .toEqual({ once: 0, ran: 50_000 });
    expect(health.filter((answer) => answer.status !== 200)).toEqual([]);
    // Probes ran while the runs were being written, not only before or after them (the server
    // runs on this host's clock, so its times compare with the probes').
    const drain = web.query<{ first: number; last: number }, []>("SELECT min(started_at) AS first, max(finished_at) AS last FROM cron_job_runs").get()!;
    expect(health.filter((answer) => answer.sentAt >= drain.first && answer.answeredAt <= drain.last).length).toBeGreaterThanOrEqual(5);
    // A regression guard against the stall of the issue (/healthz took 2.5 s while rows were
    // derived one commit at a time), not a performance target: the benchmark measures p99 ~7 ms.
    expect(health.filter((answer) => answer.ms > 1_000)).toEqual([]);
  }, 180_000);
});

describe.skipIf(!postgresAvailable)("rows written by hand while two app serve instances run (PostgreSQL)", () => {
  test("a row inserted by plain SQL 3 s ahead starts within 1 s of its run_at; with one server gone, the other hears the next", async () => {
    const { url } = await freshPgDatabase();
    const instances = await Promise.all([startInstance(url), startInstance(url)]);
    // The web application: a plain connection, no NOTIFY of its own.
    const web = pgClient(url);
    const insertAndRun = async (name: string) => {
      const [row] = await web`INSERT INTO cron_jobs (name, job_type, run_at) VALUES (${name}, 'noop', now() + interval '3 seconds') RETURNING id, run_at`;
      expect(await waitFor(async () => (await web`SELECT 1 FROM cron_job_runs WHERE job_id = ${row.id}`).length > 0, 10_000, 50)).toBe(true);
      const [run] = await web`SELECT runner, extract(epoch FROM started_at - ${row.run_at}::timestamptz) * 1000 AS late FROM cron_job_runs WHERE job_id = ${row.id}`;
      expect(Number(run.late)).toBeGreaterThanOrEqual(0);
      expect(Number(run.late)).toBeLessThan(1_000);
      return run.runner as string;
    };
    const first = await insertAndRun("hand-1");
    const ran = instances.find((i) => i.runner === first)!;
    expect(ran).toBeDefined();
    ran.child.kill("SIGKILL");
    await ran.exited;
    const second = await insertAndRun("hand-2");
    expect(second).toBe(instances.find((i) => i !== ran)!.runner);
  }, 40_000);

  test("both servers hear one hand INSERT: each runs some of its rows, its first while the other's first still runs", async () => {
    const { url } = await freshPgDatabase();
    const instances = await Promise.all([startInstance(url), startInstance(url)]);
    const target = slowTarget(2_000);
    const web = pgClient(url);
    // Ten http jobs due 200 ms apart from 3 s on, each a 2 s call: a server's tick lasts until its
    // call ends, so the rows due meanwhile are the other server's, if it heard the insert.
    await web`INSERT INTO cron_jobs (name, job_type, payload, run_at)
      SELECT 'slow-' || i, 'http', ${JSON.stringify({ url: target.url, method: "GET" })}, now() + interval '3 seconds' + i * interval '200 ms'
      FROM generate_series(0, 9) AS i`;
    expect(await waitFor(async () => (await web`SELECT 1 FROM cron_job_runs`).length >= 10, 20_000, 100)).toBe(true);
    const runs = await web`SELECT job_id, runner, status, (extract(epoch FROM started_at) * 1000)::float8 AS started,
      (extract(epoch FROM finished_at) * 1000)::float8 AS finished FROM cron_job_runs ORDER BY started_at`;
    expect(runs.map((run: { status: string }) => run.status)).toEqual(Array(10).fill("succeeded"));
    expect(new Set(runs.map((run: { job_id: number }) => run.job_id)).size).toBe(10);
    // A server tells the others of its runs only once its tick is over, after its runs are
    // recorded: one whose first run began while the other's first was still running had heard
    // the insert's own notice, not the other server.
    expect([...new Set(runs.map((run: { runner: string }) => run.runner))].sort()).toEqual(instances.map((i) => i.runner).sort());
    const [a, b] = instances.map((instance) => runs.find((run: { runner: string }) => run.runner === instance.runner)!);
    expect(a.started).toBeLessThan(b.finished);
    expect(b.started).toBeLessThan(a.finished);
  }, 40_000);
});
