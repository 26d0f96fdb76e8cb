import type { Finish, FinishOutcome, Store } from "../store/store.ts";

/**
 * Batches the finishes of runs that end close together into one transaction: a thousand
 * no-op jobs finishing in the same turn of the event loop cost one commit, not a thousand,
 * while a lone slow job is still recorded the moment it ends.
 */
export class FinishWriter {
  private queue: { finish: Finish; resolve: (o: FinishOutcome) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly store: Store) {}

  write(finish: Finish): Promise<FinishOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ finish, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    try {
      const outcomes = await this.store.finish(batch.map((b) => b.finish));
      batch.forEach((b, i) => b.resolve(outcomes[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
