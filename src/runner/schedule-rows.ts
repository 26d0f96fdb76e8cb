import { errorMessage } from "../errors.ts";
import { plannedRun, policyProblem } from "../lifecycle/lifecycle.ts";
import { firstRunAt, nextSlotAfter, scheduleOf } from "../schedule/schedule.ts";
import type { CronJobRecord, RunnerStore, ScheduledRow } from "../store/store.ts";

/** Rows read per step at most (and at first): cheap rows (one-time, interval) go this many per transaction. */
const MAX_BATCH = 1_000;
const MIN_BATCH = 10;
/**
 * Work per step, in ms of the event loop: a step stops deriving once it has spent this long,
 * writes what it derived, and yields. A distinct cron expression costs ~0.5 ms to parse and
 * match, so 1,000 of them in one step held the loop for 0.5-1.5 s.
 */
const STEP_MS = 10;

/**
 * A `next_run_at` written by hand that no `Date` holds: dead, not derived again, since PostgreSQL's
 * `infinity` often means "never", and running the job would guess; retry derives it afresh.
 */
export const NO_TIME_ERROR = "invalid schedule: next_run_at is not a time a date can hold (written by hand); retry the job to schedule it again";

/**
 * Rows written by hand without `next_run_at` get one derived from their schedule (SPEC §4), a
 * step per transaction; a row whose schedule cannot be used is made dead with the reason, and so
 * is one whose `next_run_at` is no time. Each step is bounded in time, not only in rows, and the
 * next read is sized to the rate just seen; no step starts after `budgetMs` (the rows left wait
 * for the next call). Answers how many rows it derived.
 */
export async function scheduleUnscheduled(
  store: Pick<RunnerStore, "listUnscheduled" | "scheduleRows" | "deadWithoutTime">, now: number, budgetMs = Number.POSITIVE_INFINITY,
): Promise<number> {
  await store.deadWithoutTime(NO_TIME_ERROR, now);
  const until = performance.now() + budgetMs;
  let total = 0;
  let size = MAX_BATCH;
  for (let rows = await store.listUnscheduled(size); rows.length > 0; rows = performance.now() < until ? await store.listUnscheduled(size) : []) {
    // Work time, not the job clock: `now` stays the time the schedules are derived from.
    const started = performance.now();
    const scheduled: ScheduledRow[] = [];
    for (const row of rows) {
      scheduled.push(derive(row, now));
      if (performance.now() - started >= STEP_MS) break;
    }
    const spent = performance.now() - started;
    size = Math.min(MAX_BATCH, Math.max(MIN_BATCH, Math.ceil((scheduled.length * STEP_MS) / Math.max(spent, 0.01))));
    // The rows read and not derived stay unscheduled: the next step reads them again.
    await store.scheduleRows(scheduled, now);
    total += scheduled.length;
    // Other work (HTTP requests, timers) gets a turn between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}

/** The first `next_run_at` of one row, or why it has none. */
function derive(row: CronJobRecord, now: number): ScheduledRow {
  try {
    const schedule = scheduleOf(row);
    const policy = policyProblem(row);
    if (policy !== null) return { id: row.id, error: `invalid schedule policy: ${policy}` };
    let next = firstRunAt(schedule, now);
    // A recurring row that has run and lost its next_run_at (a hand UPDATE of its schedule or
    // is_active) goes on at its next slot after now, as `jobs.resume` does: a slot it may already
    // have run is not run again. A new row starts at its run_at, past or not (SPEC §4).
    if (schedule.kind !== "once" && row.lastRunAt !== null && next !== null && next <= now) next = nextSlotAfter(schedule, next, now);
    if (next === null) return { id: row.id, error: "invalid schedule: the cron expression has no future match" };
    const planned = plannedRun(row, schedule, next);
    if (!Number.isFinite(new Date(planned).getTime())) return { id: row.id, error: "invalid schedule: its first run is not a time a date can hold" };
    return { id: row.id, nextRunAt: new Date(planned) };
  } catch (err) {
    return { id: row.id, error: `invalid schedule: ${errorMessage(err)}` };
  }
}
