import type { Finish, FinishOutcome, Store } from "../store/store.ts";

/**
 * Batches the finishes of runs that end close together into one transaction: a thousand
 * no-op jobs finishing in the same turn of the event loop cost one commit, not a thousand,
 * while a lone slow job is still recorded the moment it ends. One write is in flight at a
 * time; finishes that arrive meanwhile go together in the next one.
 */
export class FinishWriter {
  private queue: { finish: Finish; resolve: (o: FinishOutcome) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private writing = false;

  constructor(private readonly store: Store) {}

  write(finish: Finish): Promise<FinishOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ finish, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    this.writing = true;
    try {
      const outcomes = await this.store.finish(batch.map((b) => b.finish));
      batch.forEach((b, i) => b.resolve(outcomes[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}
