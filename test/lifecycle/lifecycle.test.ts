import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import {
  backoffMs, decideFinish, decideStart, givesUp, JOB_STATES, leaseMs, MAX_TIMEOUT_SECONDS, plannedRun, stateOf, timeoutMs, type RunOutcome,
} from "../../src/lifecycle/lifecycle.ts";
import { oldestOfLastSlots, plannedAt, slotOf } from "../../src/schedule/slots.ts";
import { lifecycleSql, SQLITE } from "../../src/lifecycle/lifecycle-sql.ts";
import { scheduleOf } from "../../src/schedule/schedule.ts";
import { recordFromRow, type JobRow } from "../../src/store/job-rows.ts";
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

  test("a lease whose end is no time (text, or past what a Date holds) is no lease, in SQL as in stateOf", () => {
    const store = SqliteStore.open(`${tempDir()}/odd-leases.db`);
    const db: Database = store.client;
    const sql = lifecycleSql(SQLITE, String(T0));
    for (const [name, end] of [["text", "'soon'"], ["too large", "9000000000000000"]]) {
      db.run(`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, locked_by, locked_until) VALUES ('${name}', 'noop', ${T0}, ${T0}, 'ghost', ${end})`);
      const due = db.query<JobRow, [string]>(`SELECT * FROM cron_jobs WHERE name = ? AND ${sql.due}`).get(name!);
      expect({ name, state: due && stateOf(recordFromRow(due), T0) }).toEqual({ name, state: "active" });
      expect(db.query(`SELECT 1 FROM cron_jobs WHERE name = ? AND ${sql.running}`).get(name!)).toBeNull();
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

describe("schedule policies (SPEC §5.3.1): whether a claimed run starts (decideStart), as a table", () => {
  const every1 = scheduleOf({ runAt: null, intervalMinutes: 1, cron: null, timezone: null });
  const once = scheduleOf({ runAt: T0, intervalMinutes: null, cron: null, timezone: null });
  const behind = { intervalMinutes: 1, nextRunAt: new Date(T0 - 3.5 * MIN) };
  test.each([
    ["catch-up once, slots missed: runs", every1, behind, true, undefined],
    ["catch-up all, four slots missed: runs (the oldest)", every1, { ...behind, catchUp: "all" }, true, undefined],
    ["catch-up skip, slots missed: not started", every1, { ...behind, catchUp: "skip" }, false, "catch_up"],
    ["catch-up skip, only the current slot due: runs", every1, { intervalMinutes: 1, nextRunAt: new Date(T0 - 30_000), catchUp: "skip" }, true, undefined],
    ["catch-up all, 150 slots missed: not started (only the last 100 run)", every1, { intervalMinutes: 1, nextRunAt: new Date(T0 - 150 * MIN), catchUp: "all" }, false, "catch_up"],
    ["catch-up all, exactly 100 slots due: runs", every1, { intervalMinutes: 1, nextRunAt: new Date(T0 - 99 * MIN), catchUp: "all" }, true, undefined],
    ["start deadline 60 s, 5 minutes late: not started", every1, { intervalMinutes: 1, nextRunAt: new Date(T0 - 5 * MIN), startDeadlineSeconds: 60 }, false, "deadline"],
    ["start deadline 60 s, 60 s late: runs", every1, { intervalMinutes: 1, nextRunAt: new Date(T0 - MIN), startDeadlineSeconds: 60 }, true, undefined],
    ["one-time, start deadline missed: not started", once, { nextRunAt: new Date(T0 - 5 * MIN), startDeadlineSeconds: 60 }, false, "deadline"],
    ["max_runs reached (by hand): not started", every1, { intervalMinutes: 1, maxRuns: 2, runCount: 2 }, false, "ended"],
    ["planned at ends_at: not started", every1, { intervalMinutes: 1, endsAt: new Date(T0) }, false, "ended"],
    ["planned before ends_at: runs", every1, { intervalMinutes: 1, endsAt: new Date(T0 + 1) }, true, undefined],
  ] as const)("%s", (_, schedule, over, start, reason) => {
    const decision = decideStart(row(over as Partial<CronJobRecord>), schedule, T0);
    expect(decision.start).toBe(start);
    if (!decision.start) expect(decision.reason).toBe(reason!);
  });

  test("the deadline's message says how late the run was past it", () => {
    expect(decideStart(row({ intervalMinutes: 1, nextRunAt: new Date(T0 - 5 * MIN), startDeadlineSeconds: 60 }), every1, T0))
      .toEqual({ start: false, reason: "deadline", error: "missed its start deadline by 240 s" });
  });
});

describe("schedule policies: the row change after a run (decideFinish), as a table", () => {
  const every1 = scheduleOf({ runAt: null, intervalMinutes: 1, cron: null, timezone: null });
  const once = scheduleOf({ runAt: T0, intervalMinutes: null, cron: null, timezone: null });
  const skipped = (reason: "catch_up" | "deadline" | "ended") => outcome({ status: "skipped", error: "not started", skipped: reason });
  const behind = new Date(T0 - 3.5 * MIN);

  test("catch-up all: the very next slot, even past, so each missed slot runs", () => {
    expect(decideFinish(row({ intervalMinutes: 1, nextRunAt: behind, catchUp: "all" }), every1, outcome(), T0))
      .toMatchObject({ isActive: true, nextRunAt: new Date(T0 - 2.5 * MIN) });
  });
  test("catch-up once: the first slot after now", () => {
    expect(decideFinish(row({ intervalMinutes: 1, nextRunAt: behind }), every1, outcome(), T0))
      .toMatchObject({ isActive: true, nextRunAt: new Date(T0 + 0.5 * MIN) });
  });
  test("catch-up skip, not started: the first slot after now; the claim's attempt undone, the last run kept", () => {
    const last = new Date(T0 - 10 * MIN);
    expect(decideFinish(row({ intervalMinutes: 1, nextRunAt: behind, catchUp: "skip", attempts: 3, lastRunAt: last, lastError: "x" }), every1, skipped("catch_up"), T0))
      .toMatchObject({ isActive: true, ended: null, attempts: 2, lastError: "x", lastRunAt: last, nextRunAt: new Date(T0 + 0.5 * MIN) });
  });
  test("catch-up all, 150 behind: moves to the oldest of the last 100 slots", () => {
    expect(decideFinish(row({ intervalMinutes: 1, nextRunAt: new Date(T0 - 150 * MIN), catchUp: "all" }), every1, skipped("catch_up"), T0))
      .toMatchObject({ nextRunAt: new Date(T0 - 99 * MIN) });
  });
  test("start deadline missed, recurring: the next slot", () => {
    expect(decideFinish(row({ intervalMinutes: 1, nextRunAt: new Date(T0 - 5 * MIN), startDeadlineSeconds: 60 }), every1, skipped("deadline"), T0))
      .toMatchObject({ isActive: true, ended: null, nextRunAt: new Date(T0 + MIN) });
  });
  test("start deadline missed with catch-up all: the first slot still in time, not each late one in turn", () => {
    expect(decideFinish(row({ intervalMinutes: 1, nextRunAt: new Date(T0 - 5 * MIN), startDeadlineSeconds: 60, catchUp: "all" }), every1, skipped("deadline"), T0))
      .toMatchObject({ nextRunAt: new Date(T0) });
  });
  test("start deadline missed, one-time: dead, with the reason", () => {
    expect(decideFinish(row({ startDeadlineSeconds: 60 }), once, outcome({ status: "skipped", error: "missed its start deadline by 240 s", skipped: "deadline" }), T0))
      .toMatchObject({ kind: "update", isActive: false, ended: "dead", lastError: "missed its start deadline by 240 s" });
  });
  test("the run that reaches max_runs finishes the job (any status)", () => {
    expect(decideFinish(row({ intervalMinutes: 1, maxRuns: 2, runCount: 1 }), every1, outcome({ status: "failed", error: "x" }), T0))
      .toMatchObject({ isActive: false, ended: "finished", nextRunAt: null });
    expect(decideFinish(row({ intervalMinutes: 1, maxRuns: 2, runCount: 0 }), every1, outcome(), T0)).toMatchObject({ isActive: true, ended: null });
  });
  test("a next slot at or after ends_at finishes the job", () => {
    expect(decideFinish(row({ intervalMinutes: 1, endsAt: new Date(T0 + MIN) }), every1, outcome(), T0))
      .toMatchObject({ isActive: false, ended: "finished", nextRunAt: null });
    expect(decideFinish(row({ intervalMinutes: 1, endsAt: new Date(T0 + MIN + 1) }), every1, outcome(), T0))
      .toMatchObject({ isActive: true, nextRunAt: new Date(T0 + MIN) });
  });
  test("not started because it ended: finished", () => {
    expect(decideFinish(row({ intervalMinutes: 1, maxRuns: 1, runCount: 1 }), every1, skipped("ended"), T0))
      .toMatchObject({ isActive: false, ended: "finished", nextRunAt: null });
  });
  test("jitter: the next slot is planned at its jittered time, and the grid never drifts", () => {
    const every10 = scheduleOf({ runAt: null, intervalMinutes: 10, cron: null, timezone: null });
    const job = { id: 7, intervalMinutes: 10, jitterSeconds: 300 };
    let planned = plannedRun(job, every10, T0);
    for (let k = 1; k <= 5; k++) {
      const change = decideFinish(row({ ...job, nextRunAt: new Date(planned) }), every10, outcome(), planned);
      if (change.kind !== "update") throw new Error("expected an update");
      planned = change.nextRunAt!.getTime();
      expect(planned - (T0 + k * 10 * MIN)).toBe(plannedRun(job, every10, T0) - T0);
    }
  });
});

describe("jitter (schedule/slots), as a table", () => {
  const daily = scheduleOf({ runAt: null, intervalMinutes: null, cron: "0 9 * * *", timezone: "UTC" });
  const nine = Date.parse("2026-01-06T09:00:00Z");
  test("offsets are in [0, jitter), fixed by job id and slot, and undone exactly", () => {
    const offsets = new Set<number>();
    for (let id = 1; id <= 200; id++) {
      for (const slot of [nine, nine + 86_400_000]) {
        const at = plannedAt(daily, id, 600, slot);
        expect(at).toBeGreaterThanOrEqual(slot);
        expect(at).toBeLessThan(slot + 600_000);
        expect(plannedAt(daily, id, 600, slot)).toBe(at);
        expect(slotOf(daily, id, 600, at)).toBe(slot);
        offsets.add(at - slot);
      }
    }
    expect(offsets.size).toBeGreaterThan(300);
    // Spread over the window, not bunched at one end.
    const mean = [...offsets].reduce((a, b) => a + b, 0) / offsets.size;
    expect(mean).toBeGreaterThan(200_000);
    expect(mean).toBeLessThan(400_000);
  });
  test("the same job's cron slots get different offsets", () => {
    const days = Array.from({ length: 10 }, (_, d) => plannedAt(daily, 1, 600, nine + d * 86_400_000) - (nine + d * 86_400_000));
    expect(new Set(days).size).toBeGreaterThan(1);
  });
  test("no jitter: the slot itself", () => {
    expect(plannedAt(daily, 1, 0, nine)).toBe(nine);
    expect(slotOf(daily, 1, 0, nine + 5)).toBe(nine + 5);
  });
  test("the oldest of the last 100 slots of a cron expression", () => {
    const minutely = scheduleOf({ runAt: null, intervalMinutes: null, cron: "* * * * *", timezone: "UTC" });
    expect(oldestOfLastSlots(minutely, T0 - 150 * MIN, T0, 100)).toBe(T0 - 99 * MIN);
    expect(oldestOfLastSlots(minutely, T0 - 99 * MIN, T0, 100)).toBeNull();
    const hourly = scheduleOf({ runAt: null, intervalMinutes: null, cron: "0 * * * *", timezone: "UTC" });
    expect(oldestOfLastSlots(hourly, T0 - 10 * 365 * 86_400_000, T0, 100)).toBe(T0 - 99 * 60 * MIN);
  });
});
