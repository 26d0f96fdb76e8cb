/** A run in flight: which job and claim, when its time is up (`performance.now()` ms) and how to abort it. */
export interface Running {
  jobId: number;
  /** The claim (tick) holding the job's lease. */
  runId: string;
  deadline: number;
  abort(reason: unknown): void;
  timeOut(): void;
  /** Aborts it because `jobs.cancel` asked: it is recorded `cancelled`. */
  cancel(): void;
}

/**
 * The runs in flight. One timer, armed for the earliest deadline, times them all out, and a
 * shutdown (`stop`) aborts them all: at thousands of runs a second a timer or an abort
 * listener per run costs more than the runs.
 */
export class InFlight {
  private readonly runs = new Set<Running>();
  private stopReason: unknown;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  /** `busy` is called whenever the first run starts after none were in flight. */
  constructor(private readonly busy?: () => void) {}

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  get size(): number {
    return this.runs.size;
  }

  /** The runs in flight now. */
  [Symbol.iterator](): Iterator<Running> {
    return this.runs.values();
  }

  stop(reason: unknown): void {
    this.stopReason ??= reason;
    for (const run of this.runs) run.abort(reason);
  }

  /** Tracks `run` until `remove`; aborts it at once if already stopped. */
  add(run: Running): void {
    if (this.stopReason !== undefined) run.abort(this.stopReason);
    this.runs.add(run);
    if (run.deadline < this.timerAt) this.arm(run.deadline);
    else if (this.runs.size === 1) this.timer?.ref();
    if (this.runs.size === 1) this.busy?.();
  }

  remove(run: Running): void {
    this.runs.delete(run);
    // Nothing left to time out: the timer may not keep the process alive. It stays armed: runs
    // come in waves (`concurrency` end, the next ones start), and a timer per wave costs more
    // than the runs; when it fires with nothing in flight it is not armed again.
    if (this.runs.size === 0) this.timer?.unref();
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = at === Number.POSITIVE_INFINITY ? undefined : setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
  }

  private expire(): void {
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const run of this.runs) {
      if (run.deadline <= now) run.timeOut();
      else next = Math.min(next, run.deadline);
    }
    this.arm(next);
  }
}

