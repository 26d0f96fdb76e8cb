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

/** Finishes written together, and the promise their write settles. */
interface Group {
  finishes: { run: FinishedRun; written: (outcome: FinishOutcome) => void }[];
  done: PromiseWithResolvers<void>;
}

/**
 * Ends runs: writes each row change, decided by the lifecycle (`decideFinish`) when its batch is
 * written, with its history row. Batches the finishes of runs that end close together into one
 * transaction: a thousand no-op jobs finishing in the same turn of the event loop cost one
 * commit, not a thousand, while a lone slow job is still recorded the moment it ends. One write
 * is in flight at a time; finishes that arrive meanwhile go together in the next one, unless
 * `seal` was called between them.
 */
export class Finisher {
  /** Waiting to be written, oldest first; the last one takes new finishes unless sealed. */
  private groups: Group[] = [];
  private sealed = false;
  private scheduled = false;
  private writing = false;

  constructor(private readonly store: Pick<RunnerStore, "finish">, private readonly runnerName: string) {}

  /**
   * Queues the end of `run`; `written` gets the store's outcome once it is in the database. The
   * answer settles when that write is done (one promise per write, shared by the runs in it), and
   * rejects when it failed (`written` is then never called).
   * The row change is decided when the batch is written, not here: the worker that ran the job
   * starts its next one first (`decideFinish` is a function of the run alone).
   */
  finish(run: FinishedRun, written: (outcome: FinishOutcome) => void): Promise<void> {
    let group = this.groups.at(-1);
    if (!group || this.sealed) {
      group = { finishes: [], done: Promise.withResolvers<void>() };
      this.groups.push(group);
      this.sealed = false;
    }
    group.finishes.push({ run, written });
    this.schedule();
    return group.done.promise;
  }

  /**
   * Finishes queued from now on are written after the ones queued before, not with them: a
   * runner that waits for a batch's records before its next claim then waits for that batch's
   * write alone, not for one that also holds every run that ended since.
   */
  seal(): void {
    this.sealed = true;
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.groups.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const { finishes, done } = this.groups.shift()!;
    this.writing = true;
    try {
      const outcomes = await this.store.finish(finishes.map((f) => this.finishOf(f.run)));
      finishes.forEach((f, i) => f.written(outcomes[i]!));
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
