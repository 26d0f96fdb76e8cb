import type { ChangeFeed } from "../changes.ts";
import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { RunnerStore } from "../store/store.ts";
import type { Runner } from "./runner.ts";

const MAX_SLEEP_MS = 60_000;
const RETRY_AFTER_ERROR_MS = 5_000;

export interface TickTimerDeps {
  runner: Runner;
  store: Pick<RunnerStore, "nextWakeAt">;
  clock: Clock;
  logger: Logger;
  changes: ChangeFeed;
}

/**
 * The server's own timer (SPEC §5.6): ticks at least once a minute, and as soon as the
 * earliest `next_run_at` comes due. It listens to the runtime's change feed and re-arms
 * whenever jobs change, here or elsewhere.
 */
export class TickTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking = false;
  private stopped = true;
  private unsubscribe: (() => void) | undefined;
  private readonly runner: Runner;
  private readonly store: Pick<RunnerStore, "nextWakeAt">;
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
    clearTimeout(this.timer);
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
    try {
      const now = this.clock.now();
      const next = failed || paused ? null : await this.store.nextWakeAt(now);
      // A wake time that is no number (an odd value read from the table) waits the full minute, never 1 ms.
      if (next !== null && Number.isFinite(next)) delay = Math.min(MAX_SLEEP_MS, Math.max(0, next - now));
    } catch (err) {
      this.logger.error("cannot read the next due time", { error: errorMessage(err) });
      delay = RETRY_AFTER_ERROR_MS;
    }
    if (this.stopped || this.ticking) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.runner.isStopping) return;
    this.ticking = true;
    clearTimeout(this.timer);
    let failed = false;
    let paused = false;
    try {
      const result = await this.runner.runDueJobs();
      paused = result.paused;
      if (result.claimed > 0) {
        this.logger.info("tick", { runId: result.runId, claimed: result.claimed, succeeded: result.succeeded, failed: result.failed, timedOut: result.timedOut, durationMs: result.durationMs });
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
