/**
 * The live loop: refreshes the current view a little more often than once a second, one call at a time, paused
 * while the tab is hidden; `kick` refreshes at once (after an action).
 */
export type LiveState = "live" | "retrying" | "paused";

export class Live {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private again = false;
  private running = false;
  private failures = 0;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly onState: (state: LiveState, error?: unknown) => void,
    private readonly intervalMs = 800,
  ) {
    document.addEventListener("visibilitychange", this.onVisibility);
  }

  start(): void {
    this.running = true;
    this.kick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisibility);
  }

  kick(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    if (this.inFlight) {
      this.again = true;
      return;
    }
    void this.tick();
  }

  private readonly onVisibility = () => {
    if (document.hidden) this.onState("paused");
    else this.kick();
  };

  private async tick(): Promise<void> {
    if (!this.running) return;
    if (document.hidden) return this.onState("paused");
    this.inFlight = true;
    try {
      await this.refresh();
      this.failures = 0;
      if (this.running) this.onState("live");
    } catch (err) {
      this.failures++;
      if (this.running) this.onState("retrying", err);
    } finally {
      this.inFlight = false;
    }
    if (!this.running) return;
    if (this.again) {
      this.again = false;
      return void this.tick();
    }
    // Back off while the server is away: 1 s, 2 s, 4 s, at most 10 s.
    const delay = this.failures === 0 ? this.intervalMs : Math.min(10_000, this.intervalMs * 2 ** (this.failures - 1));
    this.timer = setTimeout(() => void this.tick(), delay);
  }
}
