/**
 * Runs per time bucket for the 24-hour chart. Pure: the server fills it from one GROUP BY
 * (`countRunsByBucket`), the tests check it, the chart draws what it answers. Buckets are aligned to multiples of their size
 * since the epoch (whole hours), the last one holds "now".
 */

export type RunStatus = "succeeded" | "failed" | "timed_out" | "cancelled" | "skipped";

export interface BucketOptions {
  count: number;
  sizeMs: number;
}

/** 24 buckets of one hour: the last 24 hours. */
export const DAY_OF_HOURS: BucketOptions = { count: 24, sizeMs: 3_600_000 };

export interface Bucket {
  /** Start of the bucket (epoch ms); it ends at `start + sizeMs`. */
  start: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  skipped: number;
}

/** A run as the chart counts it. */
export interface CountedRun {
  finishedAt: number;
  status: RunStatus;
}

export const bucketStartOf = (ms: number, sizeMs: number) => Math.floor(ms / sizeMs) * sizeMs;

/** Start of the oldest bucket shown at `now`. */
export const windowStart = (now: number, { count, sizeMs }: BucketOptions) => bucketStartOf(now, sizeMs) - (count - 1) * sizeMs;

/** Counts of one bucket, keyed by bucket start; `addRun` adds to it. */
export type BucketCounts = Map<number, Omit<Bucket, "start">>;

const EMPTY = (): Omit<Bucket, "start"> => ({ succeeded: 0, failed: 0, timedOut: 0, cancelled: 0, skipped: 0 });
const FIELD: Record<RunStatus, keyof Omit<Bucket, "start">> = {
  succeeded: "succeeded", failed: "failed", timed_out: "timedOut", cancelled: "cancelled", skipped: "skipped",
};

/** Adds `n` runs of `status` to the bucket starting at `start`. */
export function addCount(tally: BucketCounts, start: number, status: RunStatus, n: number): void {
  let counts = tally.get(start);
  if (!counts) tally.set(start, (counts = EMPTY()));
  counts[FIELD[status]] += n;
}

export function addRun(tally: BucketCounts, run: CountedRun, sizeMs: number): void {
  addCount(tally, bucketStartOf(run.finishedAt, sizeMs), run.status, 1);
}

/** The window's buckets at `now`, oldest first, empty ones included; runs outside it are left out. */
export function bucketsOf(tally: BucketCounts, now: number, options: BucketOptions = DAY_OF_HOURS): Bucket[] {
  const first = windowStart(now, options);
  return Array.from({ length: options.count }, (_, i) => {
    const start = first + i * options.sizeMs;
    return { start, ...(tally.get(start) ?? EMPTY()) };
  });
}

/** Tallies `runs` into the window's buckets at `now`. */
export function bucketRuns(runs: Iterable<CountedRun>, now: number, options: BucketOptions = DAY_OF_HOURS): Bucket[] {
  const tally: BucketCounts = new Map();
  for (const run of runs) addRun(tally, run, options.sizeMs);
  return bucketsOf(tally, now, options);
}
