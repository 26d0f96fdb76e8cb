import { JOB_STATES } from "../lifecycle/lifecycle.ts";
import { CLAIM_EARLY_MS } from "../runner/runner.ts";
import type { ServerDeps } from "./deps.ts";

type Sample = [labels: string, value: number];

function metric(name: string, type: "gauge" | "counter", help: string, samples: Sample[]): string {
  const lines = samples.map(([labels, value]) => `${name}${labels} ${Number.isFinite(value) ? value : 0}`);
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.join("\n")}\n`;
}

/** `GET /metrics`: Prometheus text; job gauges from the database, run counters of this process. */
export async function renderMetrics(deps: ServerDeps): Promise<string> {
  const [stats, paused] = await Promise.all([deps.store.stats(deps.clock.now()), deps.jobs.pausedAll()]);
  const m = deps.runner.metrics;
  return [
    metric("cronjobs_paused", "gauge", "1 while all jobs are paused (jobs.pauseAll): ticks claim nothing.", [["", paused ? 1 : 0]]),
    metric("cronjobs_jobs_due", "gauge", "Active jobs due now and not leased.", [["", stats.due]]),
    metric("cronjobs_jobs", "gauge", "Jobs by state.", JOB_STATES.map((state) => [`{state="${state}"}`, stats.states[state]])),
    metric("cronjobs_runs_total", "counter", "Runs finished by this process, by status.",
      Object.entries(m.runs).map(([status, n]) => [`{status="${status}"}`, n])),
    metric("cronjobs_ticks_total", "counter", "Ticks run by this process.", [["", m.ticks]]),
    metric("cronjobs_tick_duration_seconds_sum", "counter", "Total duration of this process's ticks.", [["", m.tickSecondsSum]]),
    metric("cronjobs_last_tick_duration_seconds", "gauge", `Duration of the last tick (a timer's tick begins up to ${CLAIM_EARLY_MS} ms before its slot).`, [["", m.lastTickSeconds]]),
    metric("cronjobs_last_tick_timestamp_seconds", "gauge", "When the last tick ended (0: none yet).", [["", (m.lastTickAt ?? 0) / 1000]]),
  ].join("");
}
