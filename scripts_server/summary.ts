/** The counts of a tick's answer that the one-line summary shows. */
export interface TickCounts {
  runId: string;
  claimed: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  durationMs: number;
  /** All jobs paused (`app jobs pause-all`): the tick claimed nothing. Absent from older servers. */
  paused?: boolean;
}

/** One line for crontab's mail or a log: what the tick did. */
export function summarize(r: TickCounts): string {
  const line = `tick ${r.runId}: ${r.claimed} claimed, ${r.succeeded} succeeded, ${r.failed} failed, ${r.timedOut} timed out in ${r.durationMs} ms`;
  return r.paused ? `${line} (all jobs are paused: app jobs resume-all)` : line;
}
