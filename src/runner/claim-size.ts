/**
 * How far ahead a runner claims: about the jobs it can start within this long. Long enough that
 * a claim's round trip (a few ms) is a small part of the work it brings; short enough that a
 * crash strands few jobs that never started.
 */
export const CLAIM_AHEAD_MS = 250;
/** Weight of the latest run in the mean run time. */
const WEIGHT = 0.1;

/**
 * How many jobs one claim takes (SPEC §5.1): about as many as the runner's `concurrency` slots
 * can start within `CLAIM_AHEAD_MS`, by the mean time of its recent runs, between `concurrency`
 * and `batchSize`. Instant jobs are claimed a full batch at a time; slow ones a few at a time,
 * so the rest stay unclaimed: a process that dies has counted an attempt only against the
 * jobs it was about to start, and other servers sharing the database take their share. Before
 * any run has ended it claims what it can start at once, except before a slot: there only time
 * bounds the claims (they end well before the slot, and what no worker has started
 * `CLAIM_AHEAD_MS` after it goes back: `Runner`), so the first burst of a new process starts
 * at its slot as later ones do.
 */
export class ClaimSize {
  private meanMs: number | undefined;

  constructor(private readonly concurrency: number, private readonly batchSize: number) {}

  /** A run took `durationMs`. */
  ran(durationMs: number): void {
    const ms = Math.max(0, durationMs);
    this.meanMs = this.meanMs === undefined ? ms : this.meanMs + WEIGHT * (ms - this.meanMs);
  }

  /**
   * How many jobs claims before a slot may hold (`Runner`): what it can start within
   * `CLAIM_AHEAD_MS`, at least `concurrency`; no bound before any run has ended.
   */
  get ahead(): number {
    if (this.meanMs === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(this.concurrency, Math.floor((this.concurrency * CLAIM_AHEAD_MS) / Math.max(this.meanMs, 0.001)));
  }

  /** The jobs to claim next; `early`: before a slot. */
  next(early = false): number {
    return Math.min(this.batchSize, this.meanMs === undefined && !early ? this.concurrency : this.ahead);
  }
}
