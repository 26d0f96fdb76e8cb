/**
 * A map that keeps at most `capacity` entries, forgetting the least recently used first.
 * A `Map` iterates in insertion order, so a hit is moved to the end by re-inserting it.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  /** The key last inserted or moved to the end. */
  private newest: K | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruCache: capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    // The most recent entry asked again (a burst of one schedule) is already last: nothing to move.
    if (value === undefined || key === this.newest) return value;
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }
}
