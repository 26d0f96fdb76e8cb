import { describe, expect, test } from "bun:test";
import { DERIVE_MS } from "../../src/runner/runner.ts";
import { scheduleUnscheduled } from "../../src/runner/schedule-rows.ts";
import { freshStore, T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { testRuntime } from "../support/runtime.ts";

/** `n` cron rows written by hand, each with an expression of its own (no cache helps). */
function insertDistinctCronRows(store: ReturnType<typeof freshStore>["store"], n: number, offset = 0): void {
  store.client.transaction(() => {
    const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, cron) VALUES (?, 'noop', ?)");
    for (let k = offset; k < offset + n; k++) {
      insert.run(`c${k}`, `${k % 60} ${Math.floor(k / 60) % 24} ${(Math.floor(k / 1440) % 28) + 1} ${(Math.floor(k / 40320) % 12) + 1} *`);
    }
  }).immediate();
}

/** The longest wait of a 1 ms interval timer while `work` runs: how long the event loop was held at once. */
async function longestGap(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

describe("deriving next_run_at of rows written by hand (SPEC §4)", () => {
  test("a backlog of rows with distinct cron expressions never holds the event loop for long", async () => {
    const { store } = freshStore();
    // Offset past the expressions other suites use, so each row parses its own.
    insertDistinctCronRows(store, 3_000, 7_000);
    const started = performance.now();
    let derived = 0;
    const gap = await longestGap(async () => { derived = await scheduleUnscheduled(store, T0); });
    const took = performance.now() - started;
    expect(derived).toBe(3_000);
    const left = store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs WHERE next_run_at IS NULL").get()!.n;
    expect(left).toBe(0);
    // 1,000 such rows took 0.5-1 s in one piece; now each step of the work is short.
    expect(gap).toBeLessThan(100);
    // And the whole backlog still goes through at the rate parsing allows (generous: a shared machine).
    expect(took).toBeLessThan(30_000);
  }, 60_000);

  test("a tick derives for DERIVE_MS, then claims: a backlog to derive does not hold up a job already due", async () => {
    const { store } = freshStore();
    insertDistinctCronRows(store, 3_000, 11_000);
    const due = await addJob(store, T0, { name: "due-now", runAt: new Date(T0 - 1_000) });
    const { runner } = testRuntime(store);
    const notDerived = () => store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs WHERE next_run_at IS NULL").get()!.n;
    const started = performance.now();
    const first = await runner.runDueJobs();
    const took = performance.now() - started;
    expect(first.results.map((r) => r.id)).toEqual([due.id]);
    // Deriving all 3,000 takes several times DERIVE_MS (~500 ms here); the tick took a share.
    expect(notDerived()).toBeGreaterThan(0);
    expect(took).toBeLessThan(DERIVE_MS * 10);
    // The next ticks (a server's timer starts them at once while rows are left) derive the rest.
    for (let i = 0; i < 500 && notDerived() > 0; i++) await runner.runDueJobs();
    expect(notDerived()).toBe(0);
    expect(await store.nextWakeAt(T0)).toBeGreaterThan(T0);
  }, 60_000);

  test("rows derived in one step are written in one transaction, not one per row", async () => {
    const { store } = freshStore();
    store.client.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
      INSERT INTO cron_jobs (name, job_type, interval_minutes) SELECT 'i' || i, 'noop', 5 FROM n`);
    const writes: number[] = [];
    const counting = {
      listUnscheduled: (limit: number) => store.listUnscheduled(limit),
      deadWithoutTime: (error: string, now: number) => store.deadWithoutTime(error, now),
      scheduleRows: (rows: Parameters<typeof store.scheduleRows>[0], now: number) => { writes.push(rows.length); return store.scheduleRows(rows, now); },
    };
    expect(await scheduleUnscheduled(counting, T0)).toBe(5_000);
    // Cheap rows go at full size: a handful of writes, not thousands.
    expect(writes.length).toBeLessThanOrEqual(10);
    expect(store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs WHERE next_run_at = " + T0).get()!.n).toBe(5_000);
  });
});
