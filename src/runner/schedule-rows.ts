import { errorMessage } from "../errors.ts";
import { plannedRun } from "../lifecycle/lifecycle.ts";
import { firstRunAt, scheduleOf } from "../schedule/schedule.ts";
import type { RunnerStore, ScheduledRow } from "../store/store.ts";

/** Rows derived per transaction; the event loop gets a turn between batches. */
const BATCH = 1_000;

/**
 * Rows written by hand without `next_run_at` get one derived from their schedule (SPEC §4), a
 * batch per transaction; a row whose schedule cannot be used is made dead with the reason.
 */
export async function scheduleUnscheduled(store: Pick<RunnerStore, "listUnscheduled" | "scheduleRows">, now: number): Promise<number> {
  let total = 0;
  for (let rows = await store.listUnscheduled(BATCH); rows.length > 0; rows = await store.listUnscheduled(BATCH)) {
    const scheduled: ScheduledRow[] = rows.map((row) => {
      try {
        const schedule = scheduleOf(row);
        const next = firstRunAt(schedule, now);
        if (next === null) return { id: row.id, error: "invalid schedule: the cron expression has no future match" };
        const planned = plannedRun(row, schedule, next);
        if (!Number.isFinite(new Date(planned).getTime())) return { id: row.id, error: "invalid schedule: its first run is not a time a date can hold" };
        return { id: row.id, nextRunAt: new Date(planned) };
      } catch (err) {
        return { id: row.id, error: `invalid schedule: ${errorMessage(err)}` };
      }
    });
    await store.scheduleRows(scheduled, now);
    total += rows.length;
    // Other work (HTTP requests, timers) gets a turn between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}
