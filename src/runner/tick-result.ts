import type { CronJobRecord, RunStatus } from "../store/store.ts";

/** `results` of a tick's answer list at most this many runs. */
export const MAX_RESULTS = 1000;

/** One job's line in a tick's answer. */
export interface JobRunResult {
  id: number;
  name: string;
  jobType: string;
  userId: number | null;
  /** `due` only in a dry run; `lease_lost` when another run held the job at finish. */
  status: RunStatus | "lease_lost" | "due";
  durationMs: number;
  error?: string;
  /** What the run said (SPEC §3.2): in `jobs.runNow`'s answer, not in a tick's. */
  output?: string;
}

export interface TickResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  claimed: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  results: JobRunResult[];
  /** True when more runs happened than `results` lists. */
  truncated: boolean;
  /** True while all jobs are paused (`jobs.pauseAll`): the tick claimed nothing. */
  paused: boolean;
}

export function resultOf(job: CronJobRecord, status: JobRunResult["status"], durationMs: number, error?: string | null): JobRunResult {
  const result: JobRunResult = { id: job.id, name: job.name, jobType: job.jobType, userId: job.userId, status, durationMs };
  if (error) result.error = error;
  return result;
}

/** Counts a tick's runs and keeps the first thousand results. */
export class TickTally {
  claimed = 0;
  private counts = { succeeded: 0, failed: 0, timedOut: 0 };
  private results: JobRunResult[] = [];
  private total = 0;

  add(job: CronJobRecord, status: JobRunResult["status"], durationMs: number, error?: string | null): void {
    this.total++;
    if (status === "succeeded") this.counts.succeeded++;
    else if (status === "failed") this.counts.failed++;
    else if (status === "timed_out") this.counts.timedOut++;
    if (this.results.length < MAX_RESULTS) this.results.push(resultOf(job, status, durationMs, error));
  }

  result(runId: string, startedAt: number, finishedAt: number, ran: boolean, paused: boolean): TickResult {
    return {
      runId,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      claimed: ran ? this.claimed : 0,
      ...this.counts,
      results: this.results,
      truncated: this.total > this.results.length,
      paused,
    };
  }
}
