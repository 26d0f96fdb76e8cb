import { JOB_STATES, type JobState } from "../lifecycle/lifecycle.ts";
import type { StoreStats } from "./store.ts";

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
