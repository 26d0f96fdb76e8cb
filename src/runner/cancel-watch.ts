import { errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { RunnerStore } from "../store/store.ts";
import type { InFlight, Running } from "./in-flight.ts";

/** How often the runs in flight are checked for a cancel while any are (SPEC §5.3.2: aborted within 1 s). */
export const CANCEL_CHECK_MS = 250;

/**
 * Stops the runs `jobs.cancel` asked to stop (SPEC §5.3.2), whichever server or process on the
 * database took the request: it marks the row (`cancel_requested_at`), and the runner holding
 * the lease finds out here. While runs are in flight this looks every `CANCEL_CHECK_MS`, and at
 * once on every change the runtime hears of (a cancel through this server, PostgreSQL's NOTIFY
 * from another); each look is one query by the ids in flight. Nothing in flight: no timer, no query.
 */
export class CancelWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private checking = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Pick<RunnerStore, "cancelRequests">,
    private readonly inFlight: InFlight,
    private readonly logger: Logger,
    private readonly intervalMs = CANCEL_CHECK_MS,
  ) {}

  /** Runs are in flight again: look every interval until none are. */
  busy(): void {
    if (this.timer === undefined && !this.stopped) this.arm();
  }

  /** Jobs changed (here or elsewhere): a cancel may be among the changes. */
  changed(): void {
    if (this.inFlight.size > 0 && !this.stopped) void this.check();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight.size === 0) return;
      void this.check().finally(() => {
        if (this.inFlight.size > 0) this.busy();
      });
    }, this.intervalMs);
    // Runs in flight keep the process alive on their own; this look never should.
    this.timer.unref?.();
  }

  /** One look at a time; a change heard meanwhile makes one more. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        const byJob = new Map<number, Running[]>();
        for (const run of this.inFlight) {
          const runs = byJob.get(run.jobId);
          if (runs) runs.push(run);
          else byJob.set(run.jobId, [run]);
        }
        if (byJob.size === 0) return;
        for (const { id, runId } of await this.store.cancelRequests([...byJob.keys()])) {
          for (const run of byJob.get(id) ?? []) if (run.runId === runId) run.cancel();
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      // The next look tries again; the run goes on meanwhile.
      this.logger.warn("cannot check runs for cancel requests", { error: errorMessage(err) });
    } finally {
      this.checking = false;
    }
  }
}
