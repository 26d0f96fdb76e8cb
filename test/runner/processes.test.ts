import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import fs from "node:fs";
import path from "node:path";
import { ManualClock } from "../../src/clock.ts";
import { freshStore, onCleanup, tempDir } from "../support/db.ts";
import { SERVER_SECRETS_ENV, waitUntil } from "../support/server-process.ts";
import { addJob } from "../support/jobs.ts";
import { testRuntime } from "../support/runtime.ts";

const JOBS = 10_000;
const root = path.resolve(import.meta.dir, "../..");
const bun = process.execPath;

/** Whether process `pid` has `file` open (it has opened the database). */
function hasOpen(pid: number, file: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

function spawn(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn([bun, ...args], { cwd: tempDir(), env: { ...process.env, ...SERVER_SECRETS_ENV, ...env }, stdout: "pipe", stderr: "pipe" });
  onCleanup(() => { child.kill("SIGKILL"); });
  return child;
}

describe("several OS processes on one SQLite file", () => {
  test("two `app cron-runner --local` at once on 10,000 due jobs: both claim jobs side by side, and every job runs exactly once", async () => {
    const { store, file } = freshStore();
    const now = Date.now();
    store.client.transaction(() => {
      const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, is_active) VALUES (?, 'noop', ?, ?, 1)");
      for (let i = 0; i < JOBS; i++) insert.run(`job-${i}`, now - 1000, now - 1000);
    })();
    // Held shut until both processes have the database open, so that they claim side by side
    // rather than one draining everything before the other has started.
    const gate = new Database(file);
    gate.run("BEGIN IMMEDIATE");
    const children = [1, 2].map(() => spawn([path.join(root, "src/cli/index.ts"), "cron-runner", "--local"], { DATABASE_URL: file }));
    const opened = await waitUntil(() => children.every((c) => hasOpen(c.pid, file)), 20_000, 10);
    gate.run("COMMIT");
    gate.close();
    expect(opened).toBe(true);
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).toEqual([0, 0]);
    const outputs = await Promise.all(children.map((c) => new Response(c.stdout).text()));
    const claimed = outputs.map((out) => {
      expect(out).toMatch(/^tick [0-9a-f-]+: \d+ claimed, \d+ succeeded, 0 failed, 0 timed out/);
      return Number(/: (\d+) claimed/.exec(out)![1]);
    });
    // Contention, not turns: each process claimed a share, and the shares add up.
    expect(claimed.every((n) => n > 0)).toBe(true);
    expect(claimed[0]! + claimed[1]!).toBe(JOBS);
    const runs = store.client.query<{ job_id: number; n: number }, []>("SELECT job_id, count(*) AS n FROM cron_job_runs GROUP BY job_id").all();
    expect(runs).toHaveLength(JOBS);
    expect(runs.every((r) => r.n === 1)).toBe(true);
    const perProcess = store.client.query<{ runner: string; n: number }, []>("SELECT runner, count(*) AS n FROM cron_job_runs GROUP BY runner ORDER BY runner").all();
    // The history agrees: two runners, one per process, each with its tick's share.
    for (const child of children) expect(perProcess.some((r) => r.runner.endsWith(`/${child.pid}`))).toBe(true);
    expect(perProcess.map((r) => r.n).sort((a, b) => a - b)).toEqual([...claimed].sort((a, b) => a - b));
    // And at the same time: each process ran jobs while the other was running its own.
    const spans = store.client.query<{ runner: string; first: number; last: number }, []>(
      "SELECT runner, min(started_at) AS first, max(finished_at) AS last FROM cron_job_runs GROUP BY runner").all();
    expect(spans).toHaveLength(2);
    expect(Math.max(spans[0]!.first, spans[1]!.first)).toBeLessThan(Math.min(spans[0]!.last, spans[1]!.last));
    expect(store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs").get()!.n).toBe(0);
  }, 60_000);

  test("a process killed with SIGKILL mid-job: the job is not re-run before its lease ends, and runs once after", async () => {
    const { store, file } = freshStore();
    const now = Date.now();
    const job = await addJob(store, now, { name: "victim", jobType: "sleep", payload: JSON.stringify({ ms: 300 }), timeoutSeconds: 2, runAt: new Date(now - 1000) });
    const child = spawn([path.join(root, "test/support/app-with-test-jobs.ts"), "tick", JSON.stringify({ runner: { leaseMarginMs: 500 } })], { DATABASE_URL: file });
    // Wait until the child holds the lease, then kill it mid-job.
    expect(await waitUntil(async () => Boolean((await store.getJob(job.id))?.lockedBy), 20_000, 10)).toBe(true);
    const leased = (await store.getJob(job.id))!;
    child.kill("SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");
    // The survivor's clock stands where the dead run's lease ends, whatever the wall clock says.
    const lockedUntil = leased.lockedUntil!.getTime();
    const clock = new ManualClock(lockedUntil - 1);
    const { runner } = testRuntime(store, { clock, runner: { runnerName: "survivor" } });
    expect((await runner.runDueJobs()).claimed).toBe(0); // lease still live
    expect((await store.listRuns({ limit: 5 })).items).toHaveLength(0);
    clock.set(lockedUntil);
    const tick = await runner.runDueJobs();
    expect(tick).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(await runner.runDueJobs()).toMatchObject({ claimed: 0 });
    const runs = (await store.listRuns({ limit: 5 })).items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ jobId: job.id, status: "succeeded", attempt: 2, runner: "survivor" });
    expect(runs[0]!.startedAt.getTime()).toBeGreaterThanOrEqual(leased.lockedUntil!.getTime());
  }, 30_000);
});
