/**
 * The freshness sources of SPEC §8 and how fresh each is. `evaluateFreshness` is pure (the
 * watchdog and the dashboard's health view share it); `readFreshnessSources` does the reading.
 */
import fs from "node:fs";
import path from "node:path";
import { dueAtOf } from "../lifecycle/lifecycle.ts";
import type { CronJobRecord, CronJobRunRecord, Store } from "../store/store.ts";
import { escapeControl } from "../text/escape.ts";
import { asCronRunnerMarker, FRESHNESS_FILES, readJsonFile, type CronRunnerMarker } from "./files.ts";
import { asTestsReport, STATUS_LABEL, type TestsReport } from "./tests-report.ts";

export const SOURCE_NAMES = ["cron_runner", "tests", "overdue_jobs", "dead_jobs", "failing_jobs"] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
/** `unknown`: the source never reported (no marker, no tests page yet) and its max age has not passed. */
export type FreshnessStatus = "fresh" | "stale" | "unknown";

/** One source's verdict. */
export interface FreshnessCheck {
  name: SourceName;
  status: FreshnessStatus;
  /** How old the source is (or how long it has been wrong); null when there is nothing to age. */
  ageSeconds: number | null;
  maxAgeSeconds: number;
  detail: string;
  /**
   * A source made of things watched one by one (failing_jobs: one item per job, keyed by its
   * id): each item turns stale and recovers on its own, in its own message.
   */
  items?: CheckItem[];
}

/** One thing of a source with items. */
export interface CheckItem {
  key: string;
  status: "fresh" | "stale";
  detail: string;
}

/** A job as the checks mention it. */
export interface JobBrief {
  id: number;
  name: string;
  jobType: string;
  nextRunAt: number | null;
  updatedAt: number;
  lastError: string | null;
}

/** What was read; a source left `undefined` is not checked. */
export interface FreshnessSources {
  /** Since when the watchdog watches: a source missing for longer than its max age is stale. */
  watchingSince: number;
  /** `null`: no marker yet. */
  cronRunner?: CronRunnerMarker | null;
  tests?: { report: TestsReport | null; pageExists: boolean };
  overdueJobs?: { jobs: JobBrief[]; more: boolean };
  deadJobs?: { jobs: JobBrief[]; more: boolean };
  failingJobs?: { jobs: FailingJob[]; more: boolean; recovered: RecoveredJob[] };
}

/** A recurring job whose last runs all failed or timed out. */
export interface FailingJob extends JobBrief {
  /** When the first of those runs started. */
  failingSince: number;
}

/** A job that failed before (per the watchdog's state) and no longer does, with why. */
export interface RecoveredJob {
  id: number;
  /** e.g. "#12 nightly (report) succeeded at 2026-01-05 12:03 UTC". */
  detail: string;
}

export interface FreshnessLimits {
  /** Longest time without a tick answered to `app cron-runner`. */
  cronRunnerMaxAgeSeconds: number;
  /** Longest time since the last test run; default: the report's own stale-after. */
  testsMaxAgeSeconds: number | undefined;
  /** How late an active job may be before it counts as overdue. */
  overdueGraceSeconds: number;
  /** A recurring job whose last this many runs all failed or timed out is failing. */
  failures: number;
}

export const DEFAULT_LIMITS: FreshnessLimits = { cronRunnerMaxAgeSeconds: 300, testsMaxAgeSeconds: undefined, overdueGraceSeconds: 300, failures: 3 };
const DEFAULT_TESTS_MAX_AGE_SECONDS = 3600;
const LISTED_JOBS = 5;

const secondsBetween = (from: number, to: number) => Math.max(0, Math.round((to - from) / 1000));

/** Human duration: "45 s", "7 min", "2 h 5 min". */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const formatTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace(/:\d\d\.\d+Z$/, " UTC");

/** Evaluates each source read into fresh or stale, in `SOURCE_NAMES` order. */
export function evaluateFreshness(sources: FreshnessSources, now: number, limits: FreshnessLimits = DEFAULT_LIMITS): FreshnessCheck[] {
  const checks: FreshnessCheck[] = [];
  if (sources.cronRunner !== undefined) checks.push(checkCronRunner(sources.cronRunner, sources.watchingSince, now, limits.cronRunnerMaxAgeSeconds));
  if (sources.tests !== undefined) checks.push(checkTests(sources.tests, sources.watchingSince, now, limits.testsMaxAgeSeconds));
  if (sources.overdueJobs !== undefined) checks.push(checkOverdue(sources.overdueJobs, now, limits.overdueGraceSeconds));
  if (sources.deadJobs !== undefined) checks.push(checkDead(sources.deadJobs, now));
  if (sources.failingJobs !== undefined) checks.push(checkFailing(sources.failingJobs, now, limits.failures));
  return checks;
}

/** A source that never reported: unknown until it has been missing for longer than its max age, then stale. */
function neverReported(name: SourceName, watchingSince: number, now: number, max: number, detail: string): FreshnessCheck {
  const age = secondsBetween(watchingSince, now);
  return { name, status: age > max ? "stale" : "unknown", ageSeconds: age, maxAgeSeconds: max, detail };
}

function checkCronRunner(marker: CronRunnerMarker | null, watchingSince: number, now: number, max: number): FreshnessCheck {
  const verdict = (ageSeconds: number, detail: string): FreshnessCheck =>
    ({ name: "cron_runner", status: ageSeconds > max ? "stale" : "fresh", ageSeconds, maxAgeSeconds: max, detail });
  if (!marker) return neverReported("cron_runner", watchingSince, now, max, "no marker yet: app cron-runner has not run (is it in the crontab, with the same FRESHNESS_DIR?)");
  const latest = marker.outcome === "ok" || marker.outcome === "jobs_failed" ? "" : `; latest run (${formatTime(Date.parse(marker.time))}): ${marker.outcome}${marker.error ? `: ${marker.error}` : ""}`;
  if (marker.lastOkAt === null) return neverReported("cron_runner", watchingSince, now, max, `the server has not answered a tick yet${latest}`);
  const age = secondsBetween(Date.parse(marker.lastOkAt), now);
  const tick = marker.tick && !latest ? `: ${marker.tick.claimed} claimed, ${marker.tick.failed} failed, ${marker.tick.timedOut} timed out` : "";
  return verdict(age, `last tick answered ${formatAge(age)} ago (max ${formatAge(max)})${tick}${latest}`);
}

function checkTests(tests: NonNullable<FreshnessSources["tests"]>, watchingSince: number, now: number, limit: number | undefined): FreshnessCheck {
  const { report } = tests;
  if (!report) {
    return neverReported("tests", watchingSince, now, limit ?? DEFAULT_TESTS_MAX_AGE_SECONDS, "no tests report yet: app tests-cronjob-runner has not finished a run");
  }
  const max = limit ?? report.staleAfterSeconds;
  const age = secondsBetween(Date.parse(report.finishedAt), now);
  const problems = [
    age > max ? `no run for ${formatAge(age)} (max ${formatAge(max)})` : "",
    report.status !== "passed" ? `tests ${STATUS_LABEL[report.status]}: ${report.reason}` : "",
    tests.pageExists ? "" : `${FRESHNESS_FILES.testsHtml} is missing`,
  ].filter(Boolean);
  const detail = problems.length > 0 ? problems.join("; ") : `passed ${formatAge(age)} ago: ${report.reason}`;
  return { name: "tests", status: problems.length > 0 ? "stale" : "fresh", ageSeconds: age, maxAgeSeconds: max, detail };
}

function listJobs(jobs: JobBrief[], more: boolean, describe: (job: JobBrief) => string): string {
  const listed = jobs.slice(0, LISTED_JOBS).map((j) => escapeControl(`#${j.id} ${j.name} (${j.jobType})${describe(j)}`));
  const rest = jobs.length - listed.length;
  return listed.join(", ") + (rest > 0 || more ? `, and ${more ? "more" : rest} more` : "");
}

function checkOverdue({ jobs, more }: { jobs: JobBrief[]; more: boolean }, now: number, grace: number): FreshnessCheck {
  if (jobs.length === 0) return { name: "overdue_jobs", status: "fresh", ageSeconds: null, maxAgeSeconds: grace, detail: `no active job overdue by more than ${formatAge(grace)}` };
  const oldest = Math.min(...jobs.map((j) => j.nextRunAt ?? now));
  const count = `${jobs.length}${more ? "+" : ""}`;
  return {
    name: "overdue_jobs", status: "stale", ageSeconds: secondsBetween(oldest, now), maxAgeSeconds: grace,
    detail: `${count} active job(s) overdue by more than ${formatAge(grace)} (is anything ticking?): ${listJobs(jobs, more, (j) => (j.nextRunAt === null ? "" : `, due ${formatTime(j.nextRunAt)}`))}`,
  };
}

function checkDead({ jobs, more }: { jobs: JobBrief[]; more: boolean }, now: number): FreshnessCheck {
  if (jobs.length === 0) return { name: "dead_jobs", status: "fresh", ageSeconds: null, maxAgeSeconds: 0, detail: "no dead jobs" };
  const oldest = Math.min(...jobs.map((j) => j.updatedAt));
  return {
    name: "dead_jobs", status: "stale", ageSeconds: secondsBetween(oldest, now), maxAgeSeconds: 0,
    detail: `${jobs.length}${more ? "+" : ""} dead job(s), out of attempts (retry with app jobs retry): ${listJobs(jobs, more, (j) => (j.lastError ? `: ${j.lastError.slice(0, 200)}` : ""))}`,
  };
}

function checkFailing({ jobs, more, recovered }: NonNullable<FreshnessSources["failingJobs"]>, now: number, failures: number): FreshnessCheck {
  const runs = `its last ${failures} run${failures === 1 ? "" : "s"}`;
  const describe = (j: FailingJob) => escapeControl(`#${j.id} ${j.name} (${j.jobType}) failed ${runs} in a row${j.lastError ? `: ${j.lastError.slice(0, 200)}` : ""}`);
  const items: CheckItem[] = [
    ...jobs.map((j): CheckItem => ({ key: String(j.id), status: "stale", detail: describe(j) })),
    ...recovered.map((r): CheckItem => ({ key: String(r.id), status: "fresh", detail: escapeControl(r.detail) })),
  ];
  if (jobs.length === 0) {
    return { name: "failing_jobs", status: "fresh", ageSeconds: null, maxAgeSeconds: 0, detail: `no recurring job failed ${runs} in a row`, items };
  }
  const oldest = Math.min(...jobs.map((j) => j.failingSince));
  return {
    name: "failing_jobs", status: "stale", ageSeconds: secondsBetween(oldest, now), maxAgeSeconds: 0, items,
    detail: `${jobs.length}${more ? "+" : ""} recurring job(s) failed ${runs} in a row: ${listJobs(jobs, more, (j) => (j.lastError ? `: ${j.lastError.slice(0, 200)}` : ""))}`,
  };
}

// A row nobody has scheduled yet is due when its seed columns say (`dueAtOf`).
const briefOf = (job: CronJobRecord): JobBrief => ({
  id: job.id, name: job.name, jobType: job.jobType, nextRunAt: dueAtOf(job), updatedAt: job.updatedAt.getTime(), lastError: job.lastError,
});

/** What the job sources read from the database. */
export type FreshnessStore = Pick<Store, "listJobs" | "listRuns" | "getJob">;

export interface ReadOptions {
  freshnessDir: string;
  /** The database; without it the job sources are not read. */
  store?: FreshnessStore | undefined;
  now: number;
  watchingSince: number;
  overdueGraceSeconds: number;
  /** Runs in a row that make a recurring job failing (default 3). */
  failures?: number;
  /** Jobs reported failing before (the watchdog's state): those no longer failing are told as recovered. */
  failingBefore?: readonly number[];
  skip?: ReadonlySet<SourceName>;
}

const FINISHED_BADLY = new Set(["failed", "timed_out"]);
const LISTED_CANDIDATES = 100;

/** The last `count` runs that ran (skipped slots do not count), newest first. */
async function lastRuns(store: FreshnessStore, jobId: number, count: number): Promise<CronJobRunRecord[]> {
  const page = await store.listRuns({ jobId, limit: count + 20 });
  return page.items.filter((r) => r.status !== "skipped").slice(0, count);
}

async function readFailing(store: FreshnessStore, failures: number, failingBefore: readonly number[], now: number): Promise<NonNullable<FreshnessSources["failingJobs"]>> {
  const candidates = await store.listJobs({ limit: LISTED_CANDIDATES, failingAtLeast: failures }, now);
  const jobs: FailingJob[] = [];
  for (const job of candidates.items) {
    const runs = await lastRuns(store, job.id, failures);
    if (runs.length < failures || !runs.every((r) => FINISHED_BADLY.has(r.status))) continue;
    jobs.push({ ...briefOf(job), lastError: job.lastError ?? runs[0]!.error, failingSince: runs.at(-1)!.startedAt.getTime() });
  }
  const recovered: RecoveredJob[] = [];
  for (const id of failingBefore) {
    if (jobs.some((j) => j.id === id)) continue;
    const job = await store.getJob(id);
    if (!job) {
      recovered.push({ id, detail: `#${id}: deleted` });
      continue;
    }
    const [last] = await lastRuns(store, id, 1);
    const name = `#${id} ${job.name} (${job.jobType})`;
    if (last?.status === "succeeded") recovered.push({ id, detail: `${name} succeeded at ${formatTime(last.finishedAt.getTime())}` });
    else if (!job.isActive) recovered.push({ id, detail: `${name} is no longer active (paused or ended): not watched` });
    // A job still failing but past the listed candidates stays as it was; else its streak broke.
    else if (!(candidates.nextCursor !== null && job.attempts >= failures)) recovered.push({ id, detail: `${name} no longer failed its last ${failures} runs` });
  }
  return { jobs, more: candidates.nextCursor !== null, recovered };
}

/**
 * Reads the sources. A file that exists but cannot be read or parsed, and a database error,
 * throw an `AppError` naming the file or the database: the check could not be made.
 */
export async function readFreshnessSources(options: ReadOptions): Promise<FreshnessSources> {
  const { freshnessDir: dir, store, now, skip = new Set() } = options;
  const sources: FreshnessSources = { watchingSince: options.watchingSince };
  if (!skip.has("cron_runner")) {
    const file = path.join(dir, FRESHNESS_FILES.cronRunner);
    const value = readJsonFile(file);
    sources.cronRunner = value === undefined ? null : asCronRunnerMarker(value, file);
  }
  if (!skip.has("tests")) {
    const file = path.join(dir, FRESHNESS_FILES.testsJson);
    const value = readJsonFile(file);
    sources.tests = { report: value === undefined ? null : asTestsReport(value, file), pageExists: fs.existsSync(path.join(dir, FRESHNESS_FILES.testsHtml)) };
  }
  if (store && !skip.has("overdue_jobs")) {
    // Rows nobody has scheduled yet (written by hand) are among them, judged by their seed columns.
    const page = await store.listJobs({ limit: 100, dueBefore: new Date(now - options.overdueGraceSeconds * 1000) }, now);
    // A job running under a live lease is late on paper only.
    const overdue = page.items.filter((job) => !(job.lockedBy && job.lockedUntil && job.lockedUntil.getTime() > now)).map(briefOf);
    sources.overdueJobs = { jobs: overdue, more: page.nextCursor !== null };
  }
  if (store && !skip.has("dead_jobs")) {
    const page = await store.listJobs({ limit: 100, state: "dead" }, now);
    sources.deadJobs = { jobs: page.items.map(briefOf), more: page.nextCursor !== null };
  }
  if (store && !skip.has("failing_jobs")) {
    sources.failingJobs = await readFailing(store, options.failures ?? DEFAULT_LIMITS.failures, options.failingBefore ?? [], now);
  }
  return sources;
}
