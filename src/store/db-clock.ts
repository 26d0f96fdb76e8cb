import type { Clock } from "../clock.ts";

export interface DbClockOptions {
  /** How often the offset is measured again (default 30 s). */
  intervalMs?: number;
  /** Round trips per measurement; the quickest one wins (default 5). */
  samples?: number;
  /** The local clock the offset is added to (default: monotonic time anchored to the wall clock at start). */
  local?: () => number;
}

/** Wall-clock time that moves with the monotonic clock: a host's clock being stepped does not move it. */
function monotonicClock(): () => number {
  const anchor = Date.now() - performance.now();
  return () => anchor + performance.now();
}

/**
 * The one clock of several hosts sharing a PostgreSQL database: the local monotonic time plus
 * the measured offset to the database server's clock. Hosts whose own clocks disagree by
 * minutes then agree, within a round trip, on when a job is due and when a lease ends.
 * It never goes backwards, even when a new measurement moves the offset back a little.
 */
export class DbClock implements Clock {
  private offset = 0;
  private last = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setInterval> | undefined;

  private constructor(private readonly readDatabase: () => Promise<number>, private readonly local: () => number) {}

  /** Measures the offset (failing if the database cannot be read), then keeps it fresh. */
  static async start(readDatabase: () => Promise<number>, options: DbClockOptions = {}): Promise<DbClock> {
    const clock = new DbClock(readDatabase, options.local ?? monotonicClock());
    const samples = options.samples ?? 5;
    await clock.measure(samples);
    // A failed re-measurement keeps the last offset: clocks drift by milliseconds per hour, not minutes.
    clock.timer = setInterval(() => void clock.measure(samples).catch(() => {}), options.intervalMs ?? 30_000);
    clock.timer.unref?.();
    return clock;
  }

  /** Offset of the database clock from the local one, in ms (positive: the database is ahead). */
  get offsetMs(): number {
    return this.offset;
  }

  now(): number {
    this.last = Math.max(this.last, Math.floor(this.local() + this.offset));
    return this.last;
  }

  /** Reads the database clock `samples` times and keeps the estimate of the quickest round trip. */
  async measure(samples = 5): Promise<number> {
    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
    for (let i = 0; i < Math.max(1, samples); i++) {
      const sent = this.local();
      const database = await this.readDatabase();
      const received = this.local();
      const rtt = received - sent;
      if (rtt < best.rtt) best = { rtt, offset: database - (sent + received) / 2 };
    }
    this.offset = best.offset;
    return best.offset;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
