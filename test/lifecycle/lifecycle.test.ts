import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import {
  backoffMs, decideFinish, givesUp, JOB_STATES, leaseMs, MAX_TIMEOUT_SECONDS, stateOf, timeoutMs, type RunOutcome,
} from "../../src/lifecycle/lifecycle.ts";
import { lifecycleSql, SQLITE } from "../../src/lifecycle/lifecycle-sql.ts";
import { scheduleOf } from "../../src/schedule/schedule.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { CronJobRecord } from "../../src/store/store.ts";
import { T0, tempDir } from "../support/db.ts";

const MIN = 60_000;

/** A claimed row with defaults; `over` changes what a case is about. */
function row(over: Partial<CronJobRecord> = {}): CronJobRecord {
  return {
    id: 1, name: "j", jobType: "noop", userId: null, runAt: new Date(T0), intervalMinutes: null, cron: null, timezone: null,
    isActive: true, lastRunAt: null, nextRunAt: new Date(T0), payload: null, timeoutSeconds: 60, maxAttempts: 5, attempts: 1,
    lastError: null, lockedBy: "run-1", lockedUntil: new Date(T0 + 90_000), crashes: 0, ended: null, catchUp: "once",
    startDeadlineSeconds: null, jitterSeconds: 0, endsAt: null, maxRuns: null, runCount: 0, cancelRequestedAt: null,
    createdAt: new Date(T0), updatedAt: new Date(T0), ...over,
  };
}

const outcome = (over: Partial<RunOutcome> = {}): RunOutcome =>
  ({ status: "succeeded", error: null, startedAt: T0, output: null, unusable: false, settled: true, ...over });

describe("job states (stateOf), as a table", () => {
  const live = { lockedBy: "run-1", lockedUntil: new Date(T0 + 1) };
  const expired = { lockedBy: "run-1", lockedUntil: new Date(T0) };
  const kept = { lockedBy: null, lockedUntil: new Date(T0 + 1) };
  const cases: [string, Partial<CronJobRecord>, string][] = [
    ["active, no lease", { lockedBy: null, lockedUntil: null }, "active"],
    ["active, live lease", live, "running"],
    ["active, expired lease (a crashed run)", expired, "active"],
    ["active, lease kept after a run that ignored its abort", kept, "active"],
    ["paused by hand", { isActive: false, lockedBy: null, lockedUntil: null }, "paused"],
    ["dead", { isActive: false, ended: "dead", lockedBy: null, lockedUntil: null }, "dead"],
    ["dead, lease kept after a run that ignored its abort", { isActive: false, ended: "dead", ...kept }, "dead"],
    ["finished", { isActive: false, ended: "finished", lockedBy: null, lockedUntil: null }, "finished"],
    ["paused by hand while running", { isActive: false, ...live }, "running"],
  ];
  test.each(cases)("%s", (_, over, state) => {
    expect(stateOf(row(over), T0)).toBe(state as (typeof JOB_STATES)[number]);
  });

  test("the SQL predicates select exactly the rows stateOf names, one state per row, and the state expression agrees", () => {
    const store = SqliteStore.open(`${tempDir()}/states.db`);
    const db: Database = store.client;
    for (const [i, [, over]] of cases.entries()) {
      const r = row(over);
      db.run(`INSERT INTO cron_jobs (name, job_type, run_at, is_active, locked_by, locked_until, ended, next_run_at) VALUES (?, 'noop', ?, ?, ?, ?, ?, ?)`,
        [`case-${i}`, T0, r.isActive ? 1 : 0, r.lockedBy, r.lockedUntil?.getTime() ?? null, r.ended, T0]);
    }
    const sql = lifecycleSql(SQLITE, String(T0));
    for (const [i, [name, over, state]] of cases.entries()) {
      const matching = JOB_STATES.filter((s) => db.query(`SELECT 1 FROM cron_jobs WHERE name = ? AND ${sql.state[s]}`).get(`case-${i}`));
      expect({ name, matching }).toEqual({ name, matching: [state as (typeof JOB_STATES)[number]] });
      const value = db.query<{ s: string }, [string]>(`SELECT ${sql.stateCase} AS s FROM cron_jobs WHERE name = ?`).get(`case-${i}`)!.s;
      expect({ name, value }).toEqual({ name, value: stateOf(row(over), T0) });
    }
    store.close();
  });
});

describe("leases and timeouts", () => {
  test("the lease is the timeout plus the margin", () => {
    expect(leaseMs(row({ timeoutSeconds: 60 }), 30_000)).toBe(90_000);
  });
  test("a timeout too large for a timer is clamped, never wrapped into a 1 ms timer", () => {
    expect(timeoutMs(row({ timeoutSeconds: 9_000_000_000 }))).toBe(MAX_TIMEOUT_SECONDS * 1000);
    expect(timeoutMs(row({ timeoutSeconds: MAX_TIMEOUT_SECONDS }))).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe("giving up (givesUp), as a table", () => {
  const once = scheduleOf({ runAt: T0, intervalMinutes: null, cron: null, timezone: null });
  const every = scheduleOf({ runAt: null, intervalMinutes: 5, cron: null, timezone: null });
  test.each([
    ["one-time, attempts left", once, { attempts: 5, maxAttempts: 5 }, false],
    ["one-time, past its attempts", once, { attempts: 6, maxAttempts: 5 }, true],
    ["recurring, many failures but no crash", every, { attempts: 50, maxAttempts: 5, crashes: 0 }, false],
    ["recurring, crashes below the limit", every, { attempts: 5, maxAttempts: 5, crashes: 4 }, false],
    ["recurring, crashed max_attempts times in a row", every, { attempts: 6, maxAttempts: 5, crashes: 5 }, true],
  ] as const)("%s", (_, schedule, over, expected) => {
    expect(givesUp(row(over), schedule)).toBe(expected);
  });
});

describe("the row change that ends a run (decideFinish), as a table", () => {
  const once = scheduleOf({ runAt: T0, intervalMinutes: null, cron: null, timezone: null });
  const every5 = scheduleOf({ runAt: T0, intervalMinutes: 5, cron: null, timezone: null });
  const now = T0 + 12 * MIN;

  test("one-time success deletes the row", () => {
    expect(decideFinish(row(), once, outcome(), now)).toEqual({ kind: "delete" });
  });
  test("one-time failure with attempts left retries after the backoff", () => {
    expect(decideFinish(row({ attempts: 2 }), once, outcome({ status: "failed", error: "boom" }), now)).toMatchObject(
      { kind: "update", isActive: true, ended: null, lastError: "boom", nextRunAt: new Date(now + backoffMs(2)) });
  });
  test("one-time failure on its last attempt is dead, kept for inspection", () => {
    expect(decideFinish(row({ attempts: 5 }), once, outcome({ status: "timed_out", error: "timed out" }), now)).toMatchObject(
      { kind: "update", isActive: false, ended: "dead", attempts: 5 });
  });
  test("recurring success: next slot on the original grid, failures cleared; three missed slots run once", () => {
    expect(decideFinish(row({ intervalMinutes: 5, attempts: 3, lastError: "old" }), every5, outcome(), now)).toMatchObject(
      { kind: "update", isActive: true, ended: null, attempts: 0, lastError: null, nextRunAt: new Date(T0 + 15 * MIN) });
  });
  test("recurring failure: next slot, attempts count consecutive failures, never deactivated", () => {
    expect(decideFinish(row({ intervalMinutes: 5, attempts: 40 }), every5, outcome({ status: "failed", error: "x" }), now)).toMatchObject(
      { kind: "update", isActive: true, ended: null, attempts: 40, lastError: "x" });
  });
  test("an unusable row is dead at once", () => {
    expect(decideFinish(row(), null, outcome({ status: "failed", error: "unknown job_type", unusable: true }), now)).toMatchObject(
      { kind: "update", isActive: false, ended: "dead", lastError: "unknown job_type" });
  });
  test("a run that ignored its abort keeps the lease's end", () => {
    expect(decideFinish(row({ attempts: 5 }), once, outcome({ status: "timed_out", error: "t", settled: false }), now)).toMatchObject({ keepLease: true });
  });
  test.each([
    ["one-time: paused (kept, resumable), the claim's attempt given back", once, {},
      { kind: "update", isActive: false, ended: null, attempts: 0, lastError: "cancelled", lastRunAt: new Date(T0), nextRunAt: new Date(T0), keepLease: false }],
    ["one-time on its last attempt: paused, not dead", once, { attempts: 5 },
      { kind: "update", isActive: false, ended: null, attempts: 4, lastError: "cancelled", lastRunAt: new Date(T0), nextRunAt: new Date(T0), keepLease: false }],
    ["recurring: next slot on the grid; the failures before it and their error kept, not counted one more", every5,
      { intervalMinutes: 5, attempts: 3, lastError: "boom" },
      { kind: "update", isActive: true, ended: null, attempts: 2, lastError: "boom", lastRunAt: new Date(T0), nextRunAt: new Date(T0 + 15 * MIN), keepLease: false }],
    ["recurring after successes: no failure left behind", every5, { intervalMinutes: 5, attempts: 1 },
      { kind: "update", isActive: true, ended: null, attempts: 0, lastError: null, lastRunAt: new Date(T0), nextRunAt: new Date(T0 + 15 * MIN), keepLease: false }],
  ] as const)("a cancelled run, %s", (_, schedule, over, change) => {
    expect(decideFinish(row(over), schedule, outcome({ status: "cancelled", error: "cancelled" }), now)).toEqual(change);
  });
  test("a cancelled run that ignored its abort keeps the lease's end", () => {
    expect(decideFinish(row(), once, outcome({ status: "cancelled", error: "cancelled", settled: false }), now)).toMatchObject(
      { isActive: false, ended: null, lastError: "cancelled", keepLease: true });
  });
  test("backoff doubles from 30 s and stops at an hour", () => {
    expect([1, 2, 3, 4, 8, 20].map(backoffMs)).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
  });
});
