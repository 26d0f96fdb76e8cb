/**
 * The runs a runner may have going at once (`concurrency`, SPEC §5.2), shared by every tick of
 * the process: the server's timer and a `POST /api/cron/run` whose ticks overlap run that many
 * jobs between them, not that many each. `jobs.runNow` is asked for by hand and takes none.
 */
export class Slots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Takes a slot: `undefined` when one was free, else a promise that settles once one is handed over. */
  take(): Promise<void> | undefined {
    if (this.free > 0) {
      this.free--;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives a slot back, to the taker that has waited longest. */
  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
