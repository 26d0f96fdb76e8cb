import type { Finish, FinishOutcome, Store } from "../store/store.ts";

/**
 * Batches the finishes of runs that end close together into one transaction: a thousand
 * no-op jobs finishing in the same turn of the event loop cost one commit, not a thousand,
 * while a lone slow job is still recorded the moment it ends. One write is in flight at a
 * time; finishes that arrive meanwhile go together in the next one.
 */
export class FinishWriter {
  private queue: { finish: Finish; written: (outcome: FinishOutcome) => void }[] = [];
  /** Settles when the write holding the queued finishes is done (one promise per write, not per run). */
  private next: PromiseWithResolvers<void> | undefined;
  private scheduled = false;
  private writing = false;

  constructor(private readonly store: Store) {}

  /**
   * Queues `finish`; `written` gets its outcome once it is in the database. The answer settles
   * when that write is done, and rejects when it failed (`written` is then never called).
   */
  write(finish: Finish, written: (outcome: FinishOutcome) => void): Promise<void> {
    this.queue.push({ finish, written });
    this.next ??= Promise.withResolvers<void>();
    this.schedule();
    return this.next.promise;
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    const done = this.next!;
    this.queue = [];
    this.next = undefined;
    this.writing = true;
    try {
      const outcomes = await this.store.finish(batch.map((b) => b.finish));
      batch.forEach((b, i) => b.written(outcomes[i]!));
      done.resolve();
    } catch (err) {
      done.reject(err);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}
