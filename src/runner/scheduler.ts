import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Store } from "../store/store.ts";
import type { Runner } from "./runner.ts";

const MAX_SLEEP_MS = 60_000;
const RETRY_AFTER_ERROR_MS = 5_000;

/**
 * The server's own timer (SPEC §5.6): ticks at least once a minute, and as soon as the
 * earliest `next_run_at` comes due. `poke()` re-arms it when jobs change through the server.
 */
export class TickScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking = false;
  private again = false;
  private stopped = true;

  constructor(
    private readonly runner: Runner,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Jobs changed: look again at when the next one is due. */
  poke(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    void this.arm();
  }

  private async arm(failed = false): Promise<void> {
    let delay = failed ? RETRY_AFTER_ERROR_MS : MAX_SLEEP_MS;
    try {
      const now = this.clock.now();
      const next = failed ? null : await this.store.nextWakeAt(now);
      if (next !== null) delay = Math.min(MAX_SLEEP_MS, Math.max(0, next - now));
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
    try {
      do {
        this.again = false;
        const result = await this.runner.runDueJobs();
        if (result.claimed > 0) {
          this.logger.info("tick", { runId: result.runId, claimed: result.claimed, succeeded: result.succeeded, failed: result.failed, timedOut: result.timedOut, durationMs: result.durationMs });
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.logger.error("tick failed", { error: errorMessage(err) });
      failed = true;
    } finally {
      this.ticking = false;
    }
    await this.arm(failed);
  }
}
