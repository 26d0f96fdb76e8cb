/**
 * What the dashboard reads beyond the control plane: runs per hour over the last day, each
 * job's last runs, and the health of the system (the watchdog's freshness sources and the
 * figures of `/metrics`). Plain functions over the server's dependencies; no tRPC here.
 */
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_LIMITS, evaluateFreshness, readFreshnessSources, type FreshnessCheck } from "../watchdog/check.ts";
import { FRESHNESS_FILES, readFileNoFollow, readJsonFile } from "../watchdog/files.ts";
import { asNotifyState } from "../watchdog/notify-state.ts";
import { addCount, bucketsOf, DAY_OF_HOURS, windowStart, type Bucket, type BucketOptions, type BucketCounts } from "./run-buckets.ts";
import { errorMessage } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type { RunnerMetrics } from "../runner/metrics.ts";
import type { ReadStore, RunStatus, Store, StoreStats } from "../store/store.ts";
import { VERSION } from "../version.ts";

/** The chart's answer: one entry per bucket, oldest first. */
export interface RunChart {
  now: number;
  bucketMs: number;
  buckets: Bucket[];
}

/** Runs per bucket over the window ending at `now`, counted by the database in one GROUP BY. */
export async function readRunChart(store: Pick<ReadStore, "countRunsByBucket">, now: number, options: BucketOptions = DAY_OF_HOURS): Promise<RunChart> {
  const tally: BucketCounts = new Map();
  for (const { start, status, n } of await store.countRunsByBucket(windowStart(now, options), options.sizeMs)) addCount(tally, start, status, n);
  return { now, bucketMs: options.sizeMs, buckets: bucketsOf(tally, now, options) };
}

/** One mark of a job's strip. */
export interface StripMark {
  id: number;
  status: RunStatus;
  finishedAt: string;
  durationMs: number;
  error: string | null;
}

export interface JobStrip {
  jobId: number;
  name: string;
  jobType: string;
  /** Oldest first. */
  runs: StripMark[];
}

/** The last runs of the jobs that ran most recently (from the latest `scan` runs). */
export async function readStrips(store: Pick<Store, "listRuns">, { jobs = 12, marks = 30, scan = 2000 } = {}): Promise<JobStrip[]> {
  const page = await store.listRuns({ limit: scan });
  const strips = new Map<number, JobStrip>();
  for (const run of page.items) {
    let strip = strips.get(run.jobId);
    if (!strip) {
      if (strips.size >= jobs) continue;
      strips.set(run.jobId, (strip = { jobId: run.jobId, name: run.name, jobType: run.jobType, runs: [] }));
    }
    if (strip.runs.length >= marks) continue;
    strip.runs.push({
      id: run.id, status: run.status, finishedAt: run.finishedAt.toISOString(),
      durationMs: run.finishedAt.getTime() - run.startedAt.getTime(), error: run.error?.slice(0, 300) ?? null,
    });
  }
  return [...strips.values()].map((strip) => ({ ...strip, runs: strip.runs.reverse() }));
}

/** The health view: the database, the watchdog's sources, and the figures of `/metrics`. */
export interface HealthView {
  now: number;
  version: string;
  backend: Store["backend"];
  /** "ok", or why the database could not be reached. */
  database: string;
  stats: StoreStats | null;
  runner: { runs: Record<RunStatus, number>; ticks: number; tickSecondsSum: number; lastTickSeconds: number; lastTickAt: number | null };
  checks: FreshnessCheck[];
  /** Why the freshness sources could not be read, if they could not. */
  checksError: string | null;
  /** When `app notify-stale` last checked, from its state file; null when it never ran here. */
  watchdogCheckedAt: string | null;
  /** The tests status page (FRESHNESS_DIR/all_tests_cronjob_fresh.html) exists. */
  testsPage: boolean;
}

export interface HealthDeps {
  store: Store;
  runner: { metrics: RunnerMetrics };
  clock: Clock;
  freshnessDir: string;
}

/** Reads the health view; a part that cannot be read says why instead of failing the rest. */
export async function readHealth(deps: HealthDeps, startedAt: number): Promise<HealthView> {
  const now = deps.clock.now();
  const m = deps.runner.metrics;
  let database = "ok";
  let stats: StoreStats | null = null;
  try {
    await deps.store.ping();
    stats = await deps.store.stats(now);
  } catch (err) {
    database = errorMessage(err);
  }
  let checks: FreshnessCheck[] = [];
  let checksError: string | null = null;
  let watchdogCheckedAt: string | null = null;
  try {
    const state = asNotifyState(readJsonFile(path.join(deps.freshnessDir, FRESHNESS_FILES.notifyState)), now);
    watchdogCheckedAt = state?.lastCheckAt ?? null;
    const watchingSince = state ? Date.parse(state.watchingSince) : startedAt;
    const sources = await readFreshnessSources({
      freshnessDir: deps.freshnessDir, store: database === "ok" ? deps.store : undefined, now, watchingSince,
      overdueGraceSeconds: DEFAULT_LIMITS.overdueGraceSeconds,
    });
    checks = evaluateFreshness(sources, now, DEFAULT_LIMITS);
  } catch (err) {
    checksError = errorMessage(err);
  }
  return {
    now, version: VERSION, backend: deps.store.backend, database, stats,
    runner: { runs: { ...m.runs }, ticks: m.ticks, tickSecondsSum: m.tickSecondsSum, lastTickSeconds: m.lastTickSeconds, lastTickAt: m.lastTickAt },
    checks, checksError, watchdogCheckedAt,
    testsPage: fs.existsSync(path.join(deps.freshnessDir, FRESHNESS_FILES.testsHtml)),
  };
}

const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** The tests status page, or null when it does not exist (yet). */
export function readTestsPage(freshnessDir: string): string | null {
  const file = path.join(freshnessDir, FRESHNESS_FILES.testsHtml);
  try {
    const size = fs.lstatSync(file).size;
    return size > MAX_PAGE_BYTES ? `<p>The tests page is larger than ${MAX_PAGE_BYTES} bytes; open ${file} on the server.</p>` : readFileNoFollow(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}
