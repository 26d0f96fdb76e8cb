import { describe, expect, test } from "bun:test";
import { freshStore, onCleanup } from "../support/db.ts";
import { hasStackTrace, postTick, startServer, waitForTicks } from "../support/fault-server.ts";
import { addJob } from "../support/jobs.ts";

/** Another process that takes the write lock of `file` and holds it for `ms`; resolves once it holds it. */
async function holdWriteLock(file: string, ms: number) {
  const locker = Bun.spawn([process.execPath, "-e", `
    const { Database } = require("bun:sqlite");
    const db = new Database(${JSON.stringify(file)});
    db.run("BEGIN IMMEDIATE");
    console.log("locked");
    await Bun.sleep(${ms});
    db.run("COMMIT");
  `], { stdout: "pipe" });
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
    const now = Date.now();
    const jobs = await Promise.all([0, 1, 2].map((i) => addJob(store, now, { name: `waiting-${i}`, runAt: new Date(now - 1000) })));

    const locker = await holdWriteLock(file, 7_000);
    const started = performance.now();
    const tick = postTick(server.url);
    await Bun.sleep(200);
    // The tick waits on the lock; the server still answers meanwhile.
    const health = performance.now();
    const healthz = await fetch(`${server.url}/healthz`);
    const healthMs = performance.now() - health;
    const answer = await tick;
    const waitedMs = performance.now() - started;
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toContain("locked");
    expect(hasStackTrace(answer.text)).toBe(false);
    expect(waitedMs).toBeGreaterThan(4_500); // it waited the busy timeout (5 s) first
    expect(waitedMs).toBeLessThan(6_900);
    expect(healthz.status).toBe(200);
    expect(healthMs).toBeLessThan(1_000);
    for (const job of jobs) expect(await store.getJob(job.id)).toMatchObject({ attempts: 0, lockedBy: null });

    await locker.exited;
    const retry = await postTick(server.url);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ claimed: 3, succeeded: 3 });
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 30_000);
});

describe("waiting for another process's write lock (SQLite store)", () => {
  test("a lock held for less than the busy timeout is waited for without blocking the event loop, then the claim succeeds", async () => {
    const { store, file } = freshStore({ busyTimeoutMs: 3_000 });
    const job = await addJob(store, Date.now(), { name: "waiting", runAt: new Date(Date.now() - 1000) });
    const locker = await holdWriteLock(file, 600);
    // A 50 ms timer set as the claim starts: it fires late if the claim blocks the event loop.
    const timer = (async () => {
      const set = performance.now();
      await Bun.sleep(50);
      return performance.now() - set;
    })();
    const started = performance.now();
    const claimed = await store.claimDue({ runId: "after-the-lock", now: Date.now(), limit: 10, leaseMarginMs: 1000 });
    expect(claimed.map((j) => j.id)).toEqual([job.id]);
    expect(performance.now() - started).toBeGreaterThan(300);
    expect(await timer).toBeLessThan(200);
    expect(await locker.exited).toBe(0);
  });
});
