import { describe, expect, test } from "bun:test";
import { freshStore, onCleanup } from "../support/db.ts";
import { hasStackTrace, postTick, startServer, waitForTicks, waitUntil } from "../support/server-process.ts";
import { addJob } from "../support/jobs.ts";

/**
 * Another process that takes the write lock of `file` and holds it until its stdin closes
 * (`locker.stdin.end()`); resolves once it holds it. `firstSql` runs (and commits) just before.
 */
async function holdWriteLock(file: string, firstSql = "") {
  const locker = Bun.spawn([process.execPath, "-e", `
    const { Database } = require("bun:sqlite");
    const db = new Database(${JSON.stringify(file)});
    if (${JSON.stringify(firstSql)}) db.exec(${JSON.stringify(firstSql)});
    db.run("BEGIN IMMEDIATE");
    console.log("locked");
    for await (const _ of Bun.stdin.stream()) {}
    db.run("COMMIT");
  `], { stdin: "pipe", stdout: "pipe" });
  onCleanup(() => { locker.kill("SIGKILL"); });
  const reader = locker.stdout.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toContain("locked");
  reader.releaseLock();
  return locker;
}

describe("another process holds the write lock past the busy timeout (SQLite, real `app serve`)", () => {
  test("503 with a clear error, nothing claimed, the server keeps answering, and the next tick is fine", async () => {
    const { store, file } = freshStore();
    const server = await startServer({ databaseUrl: file, entry: "app" });
    await waitForTicks(server.url);
    // The server sees rows written by another process within milliseconds: the locker writes the
    // jobs, due a moment later, and takes the write lock in the same breath, so that they come
    // due while it holds the lock and nothing can claim them before.
    const dueAt = Date.now() + 1_500;
    const locker = await holdWriteLock(file, [0, 1, 2].map((i) =>
      `INSERT INTO cron_jobs (name, job_type, run_at, next_run_at) VALUES ('waiting-${i}', 'noop', ${dueAt}, ${dueAt});`).join(" "));
    const jobs = (await store.listJobs({ limit: 10 }, Date.now())).items.sort((a, b) => a.name.localeCompare(b.name));
    expect(jobs.map((j) => [j.name, j.attempts, j.lockedBy])).toEqual([0, 1, 2].map((i) => [`waiting-${i}`, 0, null]));
    await Bun.sleep(Math.max(0, dueAt - Date.now() + 10)); // due now: only the lock stands in the way
    const started = performance.now();
    const order: string[] = [];
    const tick = postTick(server.url).then((answer) => { order.push("tick"); return answer; });
    // The tick waits on the lock; the server still answers meanwhile.
    const healthz = await fetch(`${server.url}/healthz`);
    order.push("healthz");
    const answer = await tick;
    const waitedMs = performance.now() - started;
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toContain("locked");
    expect(hasStackTrace(answer.text)).toBe(false);
    expect(waitedMs).toBeGreaterThan(4_500); // it waited the busy timeout (5 s) first
    expect(locker.exitCode).toBeNull(); // and gave up while the lock was still held
    expect(healthz.status).toBe(200);
    expect(order).toEqual(["healthz", "tick"]);
    for (const job of jobs) expect(await store.getJob(job.id)).toMatchObject({ attempts: 0, lockedBy: null });

    locker.stdin.end();
    expect(await locker.exited).toBe(0);
    const retry = await postTick(server.url);
    expect(retry.status).toBe(200);
    // Each job runs once: through this tick or the server's own timer, retrying after its failed tick.
    expect(retry.body.claimed).toBeLessThanOrEqual(3);
    expect(await waitUntil(async () => (await store.listRuns({ limit: 10 })).items.length >= 3, 20_000)).toBe(true);
    const runs = (await store.listRuns({ limit: 10 })).items;
    expect(runs.map((r) => r.name).sort()).toEqual(["waiting-0", "waiting-1", "waiting-2"]);
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 30_000);
});

describe("waiting for another process's write lock (SQLite store)", () => {
  test("a lock held for less than the busy timeout is waited for without blocking the event loop, then the claim succeeds", async () => {
    const { store, file } = freshStore({ busyTimeoutMs: 3_000 });
    const job = await addJob(store, Date.now(), { name: "waiting", runAt: new Date(Date.now() - 1000) });
    const locker = await holdWriteLock(file);
    const order: string[] = [];
    // A short timer set as the claim starts: it fires while the claim waits, unless the claim blocks the event loop.
    const timer = Bun.sleep(20).then(() => order.push("timer"));
    const claiming = store.claimDue({ runId: "after-the-lock", now: Date.now(), limit: 10, leaseMarginMs: 1000 })
      .then((claimed) => { order.push("claimed"); return claimed; });
    // The lock is let go only once the timer has fired: a claim that blocked the loop would never see it.
    await timer;
    expect(order).toEqual(["timer"]);
    locker.stdin.end();
    const claimed = await claiming;
    expect(claimed.map((j) => j.id)).toEqual([job.id]);
    expect(order).toEqual(["timer", "claimed"]);
    expect(await locker.exited).toBe(0);
  });
});
