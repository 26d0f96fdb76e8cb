/**
 * What the dashboard reads beyond the control plane: runs per hour over the last day, each
 * job's last runs, and the health of the system (the watchdog's freshness sources and the
 * figures of `/metrics`). Plain functions over the server's dependencies; no tRPC here.
 */
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_LIMITS, evaluateFreshness, readFreshnessSources, type FreshnessCheck } from "../../scripts_server/freshness-check.ts";
import { FRESHNESS_FILES, readFileNoFollow, readJsonFile } from "../../scripts_server/freshness.ts";
import { asNotifyState } from "../../scripts_server/notify-state.ts";
import { addRun, bucketsOf, DAY_OF_HOURS, windowStart, type Bucket, type BucketOptions, type Tally } from "../dashboard/buckets.ts";
import { errorMessage } from "../errors.ts";
import type { ServerDeps } from "../server/deps.ts";
import type { RunStatus, Store, StoreStats } from "../store/store.ts";
import { VERSION } from "../version.ts";

const PAGE = 1000;

/** The chart's answer: one entry per bucket, oldest first. */
export interface RunChart {
  now: number;
  bucketMs: number;
  buckets: Bucket[];
  /** More runs finished in the window than were counted (`maxRuns`). */
  truncated: boolean;
}

/**
 * Counts of runs per bucket, kept between calls: each call reads only the runs newer than
 * the last it saw, and the whole window is counted again every `recountEveryMs` (so runs
 * committed out of id order, or pruned, are right again within that time). Calls are
 * serialized, so two dashboards polling at once do not count a run twice.
 */
export class RunTally {
  private tally: Tally = new Map();
  private newestId = 0;
  private countedAt = Number.NEGATIVE_INFINITY;
  private truncated = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Pick<Store, "listRuns">,
    private readonly options: BucketOptions = DAY_OF_HOURS,
    private readonly limits = { maxRuns: 200_000, recountEveryMs: 60_000 },
  ) {}

  chart(now: number): Promise<RunChart> {
    const next = this.queue.then(() => this.update(now));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async update(now: number): Promise<RunChart> {
    const from = new Date(windowStart(now, this.options));
    const recount = now - this.countedAt >= this.limits.recountEveryMs || now < this.countedAt;
    const tally: Tally = recount ? new Map() : this.tally;
    let newest = recount ? 0 : this.newestId;
    let counted = 0;
    let cursor: number | undefined;
    let truncated = recount ? false : this.truncated;
    for (;;) {
      const page = await this.store.listRuns({ limit: Math.min(PAGE, this.limits.maxRuns - counted), cursor, from });
      let reachedSeen = false;
      for (const run of page.items) {
        if (!recount && run.id <= this.newestId) { reachedSeen = true; break; }
        addRun(tally, { finishedAt: run.finishedAt.getTime(), status: run.status }, this.options.sizeMs);
        newest = Math.max(newest, run.id);
        counted++;
      }
      if (reachedSeen || page.nextCursor === null) break;
      if (counted >= this.limits.maxRuns) { truncated = true; break; }
      cursor = page.nextCursor;
    }
    for (const start of tally.keys()) if (start < from.getTime()) tally.delete(start);
    this.tally = tally;
    this.newestId = newest;
    this.truncated = truncated;
    if (recount) this.countedAt = now;
    return { now, bucketMs: this.options.sizeMs, buckets: bucketsOf(tally, now, this.options), truncated };
  }
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

export type HealthDeps = Pick<ServerDeps, "store" | "runner" | "clock" | "freshnessDir">;

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
