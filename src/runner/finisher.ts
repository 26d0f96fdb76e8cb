import { decideFinish, type RunOutcome } from "../lifecycle/lifecycle.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { CronJobRecord, Finish, FinishOutcome, RunnerStore } from "../store/store.ts";

/** One claimed run that has ended: the row as claimed, the tick that holds it, how it went. */
export interface FinishedRun {
  job: CronJobRecord;
  runId: string;
  /** Null when the row cannot run as written. */
  schedule: Schedule | null;
  outcome: RunOutcome;
  finishedAt: number;
}

/**
 * Ends runs: writes each row change, decided by the lifecycle (`decideFinish`) when its batch is
 * written, with its history row. Batches the finishes of runs that end close together into one
 * transaction: a thousand no-op jobs finishing in the same turn of the event loop cost one
 * commit, not a thousand, while a lone slow job is still recorded the moment it ends. One write
 * is in flight at a time; finishes that arrive meanwhile go together in the next one.
 */
export class Finisher {
  private queue: { run: FinishedRun; written: (outcome: FinishOutcome) => void }[] = [];
  /** Settles when the write holding the queued finishes is done (one promise per write, not per run). */
  private next: PromiseWithResolvers<void> | undefined;
  private scheduled = false;
  private writing = false;

  constructor(private readonly store: Pick<RunnerStore, "finish">, private readonly runnerName: string) {}

  /**
   * Queues the end of `run`; `written` gets the store's outcome once it is in the database. The
   * answer settles when that write is done, and rejects when it failed (`written` is then never called).
   * The row change is decided when the batch is written, not here: the worker that ran the job
   * starts its next one first (`decideFinish` is a function of the run alone).
   */
  finish(run: FinishedRun, written: (outcome: FinishOutcome) => void): Promise<void> {
    this.queue.push({ run, written });
    this.next ??= Promise.withResolvers<void>();
    this.schedule();
    return this.next.promise;
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    const done = this.next!;
    this.queue = [];
    this.next = undefined;
    this.writing = true;
    try {
      const outcomes = await this.store.finish(batch.map((b) => this.finishOf(b.run)));
      batch.forEach((b, i) => b.written(outcomes[i]!));
      done.resolve();
    } catch (err) {
      done.reject(err);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }

  /** The fenced row change of one run (decided by the lifecycle) and its history row. */
  private finishOf({ job, runId, schedule, outcome, finishedAt }: FinishedRun): Finish {
    return {
      jobId: job.id,
      runId,
      change: decideFinish(job, schedule, outcome, finishedAt),
      run: {
        jobId: job.id, name: job.name, jobType: job.jobType, userId: job.userId, scheduledFor: job.nextRunAt,
        startedAt: new Date(outcome.startedAt), finishedAt: new Date(finishedAt), status: outcome.status,
        error: outcome.error, output: outcome.output, attempt: job.attempts, runId, runner: this.runnerName,
      },
    };
  }
}
