/**
 * The one change signal of a runtime: the jobs service and the runner publish when jobs change,
 * the store's watch of other writers (PostgreSQL NOTIFY, SQLite's data version) feeds the same
 * feed, and the server's timer listens to it. Nothing passes a callback by hand.
 */
export class ChangeFeed {
  private readonly listeners = new Set<() => void>();
  private readonly forwarders = new Set<() => void>();

  /** Jobs changed here: tells the listeners, and the other instances on the database. */
  publish(): void {
    for (const forward of this.forwarders) forward();
    this.notify();
  }

  /** Jobs changed elsewhere (another instance, another process, a hand-written row): tells the listeners only. */
  receive(): void {
    this.notify();
  }

  /** Calls `listener` on every change, local or not; answers the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `forward` on every local change, to tell other instances (not on changes received from them). */
  forward(forward: () => void): () => void {
    this.forwarders.add(forward);
    return () => this.forwarders.delete(forward);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
