import { describe, expect, test } from "bun:test";
import { LruCache } from "../../src/schedule/lru.ts";

describe("LruCache", () => {
  test("keeps at most its capacity, forgetting the least recently used", () => {
    const cache = new LruCache<string, number>(3);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect(cache.get("a")).toBe(1); // a is now the most recently used
    cache.set("d", 4); // forgets b
    expect(cache.size).toBe(3);
    expect([cache.get("b"), cache.get("c"), cache.get("a"), cache.get("d")]).toEqual([undefined, 3, 1, 4]);
  });

  test("setting a known key replaces its value without growing", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("a", 2);
    cache.set("b", 3);
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toBe(2);
  });

  test("asking for the most recent entry again (a burst of one schedule) keeps the order of use", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect([cache.get("b"), cache.get("b"), cache.get("a"), cache.get("a")]).toEqual([2, 2, 1, 1]);
    cache.set("c", 3); // b is the least recently used now
    expect([cache.get("b"), cache.get("a"), cache.get("c")]).toEqual([undefined, 1, 3]);
    cache.get("c");
    cache.get("a"); // then a: the newest moves with each use
    cache.get("c"); // and back to c: it is moved again, so a is the one forgotten
    cache.set("d", 4);
    expect([cache.get("a"), cache.get("c"), cache.get("d")]).toEqual([undefined, 3, 4]);
  });

  test("a capacity below 1 is refused", () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});
