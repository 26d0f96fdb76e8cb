import { describe, expect, test } from "bun:test";
import path from "node:path";
import { systemClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/logger.ts";
import { Runner } from "../../src/runner/runner.ts";
import { freshStore, onCleanup } from "../support/db.ts";
import { addJob, testRegistry } from "../support/jobs.ts";

const root = path.resolve(import.meta.dir, "../..");
const bun = process.execPath;

function spawn(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn([bun, ...args], { cwd: root, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  onCleanup(() => { child.kill("SIGKILL"); });
  return child;
}

describe("several OS processes on one SQLite file", () => {
  test("two `app cron-runner --local` at once on 1,000 due jobs: every job runs exactly once", async () => {
    const { store, file } = freshStore();
    const now = Date.now();
    store.client.transaction(() => {
      const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, is_active) VALUES (?, 'noop', ?, ?, 1)");
      for (let i = 0; i < 1000; i++) insert.run(`job-${i}`, now - 1000, now - 1000);
    })();
    const children = [1, 2].map(() => spawn(["src/cli/index.ts", "cron-runner", "--local"], { DATABASE_URL: file }));
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).toEqual([0, 0]);
    const outputs = await Promise.all(children.map((c) => new Response(c.stdout).text()));
    for (const out of outputs) expect(out).toMatch(/^tick [0-9a-f-]+: \d+ claimed, \d+ succeeded, 0 failed, 0 timed out/);
    const runs = store.client.query<{ job_id: number; n: number }, []>("SELECT job_id, count(*) AS n FROM cron_job_runs GROUP BY job_id").all();
    expect(runs).toHaveLength(1000);
    expect(runs.every((r) => r.n === 1)).toBe(true);
    expect(store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs").get()!.n).toBe(0);
  }, 60_000);

  test("a process killed with SIGKILL mid-job: the job is not re-run before its lease ends, and runs once after", async () => {
    const { store, file } = freshStore();
    const now = Date.now();
    const job = await addJob(store, now, { name: "victim", jobType: "sleep", payload: JSON.stringify({ ms: 300 }), timeoutSeconds: 2, runAt: new Date(now - 1000) });
    const child = spawn([path.join(root, "test/support/tick-process.ts"), file, "500"]);
    // Wait until the child holds the lease, then kill it mid-job.
    for (let i = 0; i < 200 && !(await store.getJob(job.id))?.lockedBy; i++) await Bun.sleep(10);
    const leased = (await store.getJob(job.id))!;
    expect(leased.lockedBy).not.toBeNull();
    child.kill("SIGKILL");
    await child.exited;
    const runner = new Runner({ store, registry: testRegistry(), clock: systemClock, logger: silentLogger }, { runnerName: "survivor" });
    expect((await runner.runDueJobs()).claimed).toBe(0); // lease (2 s + 0.5 s) still live
    expect((await store.listRuns({ limit: 5 })).items).toHaveLength(0);
    await Bun.sleep(Math.max(0, leased.lockedUntil!.getTime() - Date.now() + 20));
    const tick = await runner.runDueJobs();
    expect(tick).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(await runner.runDueJobs()).toMatchObject({ claimed: 0 });
    const runs = (await store.listRuns({ limit: 5 })).items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ jobId: job.id, status: "succeeded", attempt: 2, runner: "survivor" });
    expect(runs[0]!.startedAt.getTime()).toBeGreaterThanOrEqual(leased.lockedUntil!.getTime());
  }, 30_000);
});
