import { describe, expect, test } from "bun:test";
import { freshStore, onCleanup } from "../support/db.ts";
import { hasStackTrace, postTick, startServer, waitForTicks } from "../support/server-process.ts";
import { addJob } from "../support/jobs.ts";

/**
 * Another process that takes the write lock of `file` and holds it until its stdin closes
 * (`locker.stdin.end()`); resolves once it holds it.
 */
async function holdWriteLock(file: string) {
  const locker = Bun.spawn([process.execPath, "-e", `
    const { Database } = require("bun:sqlite");
    const db = new Database(${JSON.stringify(file)});
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
    const now = Date.now();
    const jobs = await Promise.all([0, 1, 2].map((i) => addJob(store, now, { name: `waiting-${i}`, runAt: new Date(now - 1000) })));

    // Held until the test lets go (the process exits when its stdin closes): the tick must give up first.
    const locker = await holdWriteLock(file);
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
    expect(retry.body).toMatchObject({ claimed: 3, succeeded: 3 });
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
