import { AppError } from "../errors.ts";

/** Counts of one test run. */
export interface TestCounts {
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
}

/** One failing test case. */
export interface TestFailure {
  /** The describe path and the test name, joined with " > ". */
  name: string;
  file: string | null;
  message: string;
}

export type TestsStatus = "passed" | "failed" | "error" | "timed_out";

/** How a status reads on the page. */
export const STATUS_LABEL: Record<TestsStatus, string> = { passed: "passed", failed: "failed", error: "error", timed_out: "timed out" };

/** One run, as the history keeps it. */
export interface TestsRun {
  status: TestsStatus;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  counts: TestCounts | null;
}

/** `freshness/all_tests_cronjob_fresh.json`: the last run in full, and the runs before it. */
export interface TestsReport extends TestsRun {
  version: 1;
  /** One line: why this status. */
  reason: string;
  command: string;
  cwd: string;
  host: string;
  exitCode: number | null;
  signal: string | null;
  /** Where the counts come from: the JUnit report, or only the exit code. */
  countsFrom: "junit" | "exit_code";
  failures: TestFailure[];
  /** Failing tests not listed in `failures`. */
  moreFailures: number;
  /** The page counts as stale after this time (no newer run by then). */
  staleAfter: string;
  staleAfterSeconds: number;
  /** The end of the command's output. */
  output: string;
  /** Newest first, this run included. */
  history: TestsRun[];
}

const isTime = (v: unknown): v is string => typeof v === "string" && !Number.isNaN(Date.parse(v));

/** Checks the shape of a parsed tests report; an `AppError` naming the file when it is not one. */
export function asTestsReport(value: unknown, file: string): TestsReport {
  const r = value as Partial<TestsReport> | null;
  if (!r || typeof r !== "object" || typeof r.status !== "string" || !(r.status in STATUS_LABEL)
    || !isTime(r.finishedAt) || !isTime(r.staleAfter) || typeof r.staleAfterSeconds !== "number") {
    throw new AppError("UNAVAILABLE", `cannot read ${file}: not a tests report (needs "status", "finishedAt", "staleAfter", "staleAfterSeconds")`);
  }
  return { ...r, history: Array.isArray(r.history) ? r.history : [] } as TestsReport;
}
