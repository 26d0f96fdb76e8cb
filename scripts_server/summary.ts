/** The counts of a tick's answer that the one-line summary shows. */
export interface TickCounts {
  runId: string;
  claimed: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  durationMs: number;
}

/** One line for crontab's mail or a log: what the tick did. */
export function summarize(r: TickCounts): string {
  return `tick ${r.runId}: ${r.claimed} claimed, ${r.succeeded} succeeded, ${r.failed} failed, ${r.timedOut} timed out in ${r.durationMs} ms`;
}
