import type { RunStatus } from "../store/store.ts";

/** In-process counters of this runner, exposed on `/metrics`. */
export class RunnerMetrics {
  readonly runs: Record<RunStatus, number> = { succeeded: 0, failed: 0, timed_out: 0, cancelled: 0, skipped: 0 };
  ticks = 0;
  tickSecondsSum = 0;
  lastTickSeconds = 0;
  /** Epoch ms of the end of the last tick, or null before the first. */
  lastTickAt: number | null = null;

  recordRun(status: RunStatus): void {
    this.runs[status]++;
  }

  recordTick(durationMs: number, at: number): void {
    this.ticks++;
    this.lastTickSeconds = durationMs / 1000;
    this.tickSecondsSum += durationMs / 1000;
    this.lastTickAt = at;
  }
}
