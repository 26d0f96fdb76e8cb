import { dueAtOf, JOB_STATES, type JobState } from "../lifecycle/lifecycle.ts";
import type { CronJobRecord, StoreStats } from "./store.ts";

/**
 * Cron rows nobody has scheduled yet that a count of due jobs judges by their first match
 * (`dueAtOf`, which SQL cannot compute), oldest first. A running server schedules them within
 * ms; only a backlog of them holds more, and a count stays cheap by judging this many at most.
 */
export const JUDGED_UNSCHEDULED_CRON = 1_000;

/** The rows among `rows` (`unscheduledCron`) that are due at `now` by their seed columns. */
export function dueUnscheduled(rows: CronJobRecord[], now: number): number {
  return rows.filter((job) => (dueAtOf(job) ?? Number.POSITIVE_INFINITY) <= now).length;
}

/** `StoreStats` from the rows of a `GROUP BY` over the lifecycle's state expression. */
export function statsOf(rows: { state: JobState; n: number | string }[], due: number): StoreStats {
  const states = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  let jobs = 0;
  for (const { state, n } of rows) {
    states[state] = Number(n);
    jobs += Number(n);
  }
  return { jobs, due, states };
}
