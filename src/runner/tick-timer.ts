import type { ChangeFeed } from "../changes.ts";
import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { RunnerStore } from "../store/store.ts";
import { CLAIM_EARLY_MS, type Runner } from "./runner.ts";

const MAX_SLEEP_MS = 60_000;
const RETRY_AFTER_ERROR_MS = 5_000;
/**
 * The timer has the store fold its write-ahead log into the database file
 * (`RunnerStore.checkpoint`) while no claim waits on it, so that SQLite's own checkpoint, at
 * 1,000 frames of log, does not fall in the commit of a claim a burst of due jobs waits on (+8
 * ms, measured). After a tick of its own that ran jobs, all of it, at once: the next write,
 * often another process's, then starts the log over and syncs its header (~1 ms). `PREPARE_MS`
 * before a due time, what was written since (jobs created one by one, rows written by hand) if
 * it is `PREPARE_FRAMES` or more: a quarter of SQLite's mark, so a burst's claims and finishes
 * (~250 frames for 1,000 jobs) do not reach it, while a shorter log is not worth the sync the
 * claim would then pay to start it over. A due time closer than `PREPARE_MS` gets neither: the
 * log waits for a later one.
 */
export const PREPARE_MS = 50;
export const PREPARE_FRAMES = 256;

export interface TickTimerDeps {
  runner: Runner;
  store: Pick<RunnerStore, "nextWakeAt" | "checkpoint">;
  clock: Clock;
  logger: Logger;
  changes: ChangeFeed;
}

/**
 * The server's own timer (SPEC §5.6): ticks at least once a minute, and as soon as the
 * earliest `next_run_at` comes due. It listens to the runtime's change feed and re-arms
 * whenever jobs change, here or elsewhere. It has the store fold its log in while nothing waits
 * (`PREPARE_MS`), and starts the tick `CLAIM_EARLY_MS` before a due time, so the jobs are claimed
 * by then and start in the millisecond they come due (`TickOptions.slot`).
 */
export class TickTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking = false;
  /**
   * The due time the last tick was early for. What it left (a lease that ends then, a job that
   * became due by it meanwhile) waits for the time itself: another early tick would find it
   * still held, again and again until then.
   */
  private tickedEarlyFor: number | undefined;
  /** A tick of this timer ran jobs since its last checkpoint. */
  private wrote = false;
  private stopped = true;
  private unsubscribe: (() => void) | undefined;
  private readonly runner: Runner;
  private readonly store: Pick<RunnerStore, "nextWakeAt" | "checkpoint">;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly deps: TickTimerDeps) {
    ({ runner: this.runner, store: this.store, clock: this.clock, logger: this.logger } = deps);
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.deps.changes.subscribe(() => this.poke());
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.disarm();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Jobs changed: look again at when the next one is due (after a tick it looks anyway). */
  private poke(): void {
    if (this.stopped || this.ticking) return;
    void this.arm();
  }

  /**
   * Sets the timer to the next due time. While all jobs are paused due jobs claim nothing, so it
   * waits the full minute (or until a change, such as resume all, pokes it) instead of spinning.
   */
  private async arm(failed = false, paused = false): Promise<void> {
    let delay = failed ? RETRY_AFTER_ERROR_MS : MAX_SLEEP_MS;
    let due: number | undefined; // the due time to tick for
    try {
      const now = this.clock.now();
      const next = failed || paused ? null : await this.store.nextWakeAt(now);
      // A wake time that is no number (an odd value read from the table) waits the full minute, never 1 ms.
      if (next !== null && Number.isFinite(next) && next - now <= MAX_SLEEP_MS) {
        due = next;
        delay = Math.max(0, next - now - this.earliness(next));
      }
    } catch (err) {
      this.logger.error("cannot read the next due time", { error: errorMessage(err) });
      delay = RETRY_AFTER_ERROR_MS;
    }
    if (this.wrote && delay > PREPARE_MS) {
      this.wrote = false;
      await this.checkpoint(1);
    }
    if (this.stopped || this.ticking) return;
    this.disarm();
    if (due !== undefined && this.store.checkpoint && delay > PREPARE_MS) {
      this.timer = setTimeout(() => void this.prepare(due), delay - PREPARE_MS);
    } else {
      this.timer = setTimeout(() => this.wake(due), delay);
    }
  }

  /** `PREPARE_MS` before `due`: a long log folded in while no claim waits on it. */
  private async prepare(due: number): Promise<void> {
    this.timer = undefined;
    await this.checkpoint(PREPARE_FRAMES);
    // Re-armed or stopped meanwhile: that timer stands.
    if (this.stopped || this.ticking || this.timer !== undefined) return;
    this.wake(due);
  }

  /** The store's log folded in if `minFrames` frames or more are not in the file; a failure only costs a later one. */
  private async checkpoint(minFrames: number): Promise<void> {
    try {
      await this.store.checkpoint?.(minFrames);
    } catch (err) {
      this.logger.warn("cannot checkpoint the write-ahead log", { error: errorMessage(err) });
    }
  }

  /**
   * The timer fired: ticks for `due` once it is `CLAIM_EARLY_MS` away or less (or has come, after
   * a tick early for it: `tickedEarlyFor`). A clock that has moved back meanwhile (a database
   * clock re-read, a stepped system clock) is looked at again as after a change.
   */
  private wake(due: number | undefined): void {
    this.timer = undefined;
    if (due === undefined || due - this.clock.now() <= this.earliness(due)) void this.tick(due);
    else void this.arm();
  }

  /** How long before `due` to tick for it. */
  private earliness(due: number): number {
    return due === this.tickedEarlyFor ? 0 : CLAIM_EARLY_MS;
  }

  private async tick(slot?: number): Promise<void> {
    if (this.stopped || this.runner.isStopping) return;
    this.ticking = true;
    this.disarm();
    this.tickedEarlyFor = slot !== undefined && slot > this.clock.now() ? slot : undefined;
    let failed = false;
    let paused = false;
    try {
      const result = await this.runner.runDueJobs({ slot });
      paused = result.paused;
      if (result.claimed > 0) {
        this.logger.info("tick", { runId: result.runId, claimed: result.claimed, succeeded: result.succeeded, failed: result.failed, timedOut: result.timedOut, durationMs: result.durationMs });
        this.wrote = true;
      }
    } catch (err) {
      this.logger.error("tick failed", { error: errorMessage(err) });
      failed = true;
    } finally {
      this.ticking = false;
    }
    await this.arm(failed, paused);
  }
}
