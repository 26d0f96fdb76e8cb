import { nextCronMatch, nextSlotAfter, type Schedule } from "./schedule.ts";

/**
 * Slots and jitter (SPEC §5.3.1), pure like the rest of the schedule module: where a job's
 * slots fall, how far jitter moves each one, and how to find the slot again from the moved
 * time that `next_run_at` stores.
 *
 * A slot's jitter is an offset in `[0, jitter)` computed from the job's id and the slot by a
 * fixed hash, so every server (and a restart) moves the same slot by the same amount, and
 * never earlier than the slot. `next_run_at` holds the moved time: that is when the job is due.
 *
 * - cron: the offset depends on the id and the slot. Since jitter is shorter than the gap
 *   between two matches, the slot of a stored time is the one match in `(time − jitter, time]`.
 * - interval and one-time: the offset depends on the id only (the same for each slot). An
 *   interval's slots are a grid anchored on its first slot, and nothing but `next_run_at` holds
 *   that grid: one offset per job is what lets the slot be taken back exactly, so the grid never
 *   drifts.
 */

const MINUTE = 60_000;

/** A 32-bit mix of two 32-bit words (murmur3's finaliser over a combination): fixed, fast, well spread. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b ^ 0xc2b2ae35, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A deterministic number in `[0, range)` from a job id and a time (ms); the same on every machine. */
function hashOf(jobId: number, at: number, range: number): number {
  const seconds = Math.floor(at / 1000);
  const low = seconds >>> 0;
  const high = Math.floor(seconds / 2 ** 32) >>> 0;
  const h1 = mix(jobId >>> 0, mix(low, high));
  const h2 = mix(h1, Math.floor(jobId / 2 ** 32) >>> 0);
  // 53 bits from two words, so ranges up to days (in ms) stay evenly spread.
  return ((h1 * 2 ** 21 + (h2 >>> 11)) % range);
}

/** How far jitter moves `slot` (ms, in `[0, jitterSeconds × 1000)`). */
export function jitterOffsetMs(schedule: Schedule, jobId: number, jitterSeconds: number, slot: number): number {
  const range = Math.trunc(jitterSeconds) * 1000;
  if (range <= 0) return 0;
  return hashOf(jobId, schedule.kind === "cron" ? slot : 0, range);
}

/** When the run of `slot` is planned: the slot moved by its jitter. */
export function plannedAt(schedule: Schedule, jobId: number, jitterSeconds: number, slot: number): number {
  return slot + jitterOffsetMs(schedule, jobId, jitterSeconds, slot);
}

/** The slot a planned time (`next_run_at`) belongs to: `plannedAt` undone. */
export function slotOf(schedule: Schedule, jobId: number, jitterSeconds: number, planned: number): number {
  const range = Math.trunc(jitterSeconds) * 1000;
  if (range <= 0) return planned;
  if (schedule.kind !== "cron") return planned - jitterOffsetMs(schedule, jobId, jitterSeconds, 0);
  // The latest match in (planned − jitter, planned] whose offset lands on `planned`; a time written
  // by hand that no match moves to stands for itself.
  let found = planned;
  for (let m = nextCronMatch(schedule, planned - range); m !== null && m <= planned; m = nextCronMatch(schedule, m)) {
    if (m + jitterOffsetMs(schedule, jobId, jitterSeconds, m) === planned) found = m;
  }
  return found;
}

/** The slot right after `slot`, whether or not it has passed (null: none left). */
export function followingSlot(schedule: Schedule, slot: number): number | null {
  return nextSlotAfter(schedule, slot, slot);
}

/** Slots in `[from, until]`, counted up to `cap`. */
function countSlots(schedule: Schedule, from: number, until: number, cap: number): number {
  if (schedule.kind === "once") return from <= until ? 1 : 0;
  if (schedule.kind === "interval") return from > until ? 0 : Math.min(cap, Math.floor((until - from) / (schedule.intervalMinutes * MINUTE)) + 1);
  let n = 0;
  for (let m = nextCronMatch(schedule, from - 1); m !== null && m <= until && n < cap; m = nextCronMatch(schedule, m)) n++;
  return n;
}

/**
 * When more than `n` slots from `slot` on have passed by `now`: the oldest of the last `n`
 * (the catch-up of `all` runs those). Null when `n` or fewer have passed.
 */
export function oldestOfLastSlots(schedule: Schedule, slot: number, now: number, n: number): number | null {
  if (schedule.kind === "once" || countSlots(schedule, slot, now, n + 1) <= n) return null;
  if (schedule.kind === "interval") {
    const step = schedule.intervalMinutes * MINUTE;
    return slot + (Math.floor((now - slot) / step) - (n - 1)) * step;
  }
  // Cron: the latest time from which `n` matches remain, found by halving (matches fall on whole
  // seconds, so a one-second bracket holds at most one); each probe walks at most n + 1 matches.
  let lo = slot;
  let hi = now + 1;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (countSlots(schedule, mid, now, n) >= n) lo = mid;
    else hi = mid;
  }
  return nextCronMatch(schedule, lo - 1);
}

/**
 * The shortest gap between two of the next `sample` slots after `from` (ms), or null when the
 * schedule has fewer than two: jitter longer than this would move a slot past the next one.
 */
export function shortestGapMs(schedule: Schedule, from: number, sample = 50): number | null {
  if (schedule.kind === "once") return null;
  if (schedule.kind === "interval") return schedule.intervalMinutes * MINUTE;
  let shortest: number | null = null;
  let previous = nextCronMatch(schedule, from);
  for (let i = 0; i < sample && previous !== null; i++) {
    const next = nextCronMatch(schedule, previous);
    if (next === null) break;
    shortest = shortest === null ? next - previous : Math.min(shortest, next - previous);
    previous = next;
  }
  return shortest;
}
