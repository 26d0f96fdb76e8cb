import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS, evaluateFreshness, type FreshnessSources } from "../../src/watchdog/check.ts";
import type { CronRunnerMarker } from "../../src/watchdog/files.ts";
import type { TestsReport } from "../../src/watchdog/tests-report.ts";
import { T0 } from "../support/db.ts";

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function marker(lastOkAt: number | null, latest: Partial<CronRunnerMarker> = {}): CronRunnerMarker {
  return {
    version: 1, time: iso(lastOkAt ?? T0), outcome: "ok", exitCode: 0, url: "http://x/api/cron/run", durationMs: 3,
    lastOkAt: lastOkAt === null ? null : iso(lastOkAt), tick: { runId: "r", claimed: 2, succeeded: 2, failed: 0, timedOut: 0, durationMs: 1 }, error: null, ...latest,
  };
}

function report(finishedAt: number, status: TestsReport["status"] = "passed"): TestsReport {
  const run = { status, startedAt: iso(finishedAt - 1000), finishedAt: iso(finishedAt), durationMs: 1000, counts: null };
  return {
    version: 1, ...run, reason: status === "passed" ? "all 3 tests passed" : "1 of 3 tests failed", command: "bun test", cwd: "/", host: "h",
    exitCode: 0, signal: null, countsFrom: "junit", failures: [], moreFailures: 0, staleAfter: iso(finishedAt + 3_600_000), staleAfterSeconds: 3_600, output: "", history: [run],
  };
}

const at = (sources: Omit<FreshnessSources, "watchingSince">, now = T0, watchingSince = T0 - 60 * MIN, limits = DEFAULT_LIMITS) =>
  evaluateFreshness({ watchingSince, ...sources }, now, limits);

describe("evaluateFreshness (pure)", () => {
  test.each([
    ["a tick answered 1 min ago", marker(T0 - MIN), "fresh", 60, "last tick answered 60 s ago"],
    ["a tick answered 6 min ago", marker(T0 - 6 * MIN), "stale", 360, "last tick answered 6 min ago (max 5 min)"],
    ["last good tick recent, latest run unreachable", marker(T0 - 2 * MIN, { time: iso(T0), outcome: "unreachable", error: "ECONNREFUSED" }), "fresh", 120, "unreachable: ECONNREFUSED"],
    ["never answered", marker(null, { outcome: "refused", error: "401" }), "stale", 3600, "the server has not answered a tick yet"],
    ["no marker", null, "stale", 3600, "no marker yet"],
  ] as const)("cron_runner: %s → %s", (_, m, status, age, detail) => {
    const [check] = at({ cronRunner: m });
    expect(check).toMatchObject({ name: "cron_runner", status, ageSeconds: age, maxAgeSeconds: 300 });
    expect(check!.detail).toContain(detail);
  });

  test("a source that never reported is unknown (never fresh) while the watchdog has watched for less than its max age, then stale", () => {
    expect(at({ cronRunner: null }, T0, T0 - 4 * MIN)[0]!.status).toBe("unknown");
    expect(at({ cronRunner: marker(null, { outcome: "unreachable", error: "ECONNREFUSED" }) }, T0, T0 - 4 * MIN)[0]!.status).toBe("unknown");
    expect(at({ cronRunner: null }, T0, T0 - 6 * MIN)[0]!.status).toBe("stale");
    expect(at({ tests: { report: null, pageExists: false } }, T0, T0 - 59 * MIN)[0]!.status).toBe("unknown");
    expect(at({ tests: { report: null, pageExists: false } }, T0, T0 - 61 * MIN)[0]!.status).toBe("stale");
  });

  test.each([
    ["passed 10 min ago", report(T0 - 10 * MIN), true, undefined, "fresh", "passed 10 min ago"],
    ["failed", report(T0 - MIN, "failed"), true, undefined, "stale", "tests failed: 1 of 3 tests failed"],
    ["timed out", report(T0 - MIN, "timed_out"), true, undefined, "stale", "tests timed out"],
    ["older than its own stale-after", report(T0 - 61 * MIN), true, undefined, "stale", "no run for 61 min (max 60 min)"],
    ["older than --tests-max-age", report(T0 - 11 * MIN), true, 600, "stale", "no run for 11 min (max 10 min)"],
    ["page missing", report(T0 - MIN), false, undefined, "stale", "all_tests_cronjob_fresh.html is missing"],
  ] as const)("tests: %s → %s", (_, r, pageExists, max, status, detail) => {
    const [check] = at({ tests: { report: r, pageExists } }, T0, T0, { ...DEFAULT_LIMITS, testsMaxAgeSeconds: max });
    expect(check).toMatchObject({ name: "tests", status });
    expect(check!.detail).toContain(detail);
  });

  test("jobs: none overdue or dead is fresh with no age; any is stale and listed", () => {
    const job = (id: number, late: number) => ({ id, name: `job-${id}`, jobType: "noop", nextRunAt: T0 - late, updatedAt: T0 - late, lastError: "boom" });
    expect(at({ overdueJobs: { jobs: [], more: false }, deadJobs: { jobs: [], more: false } })).toEqual([
      { name: "overdue_jobs", status: "fresh", ageSeconds: null, maxAgeSeconds: 300, detail: "no active job overdue by more than 5 min" },
      { name: "dead_jobs", status: "fresh", ageSeconds: null, maxAgeSeconds: 0, detail: "no dead jobs" },
    ]);
    const [overdue, dead] = at({ overdueJobs: { jobs: [job(1, 10 * MIN), job(2, 7 * MIN)], more: true }, deadJobs: { jobs: [job(3, 2 * MIN)], more: false } });
    expect(overdue).toMatchObject({ status: "stale", ageSeconds: 600 });
    expect(overdue!.detail).toContain("2+ active job(s) overdue");
    expect(overdue!.detail).toContain("#1 job-1 (noop)");
    expect(dead).toMatchObject({ status: "stale", ageSeconds: 120, maxAgeSeconds: 0 });
    expect(dead!.detail).toContain("#3 job-3 (noop): boom");
  });

  test("a source not read is not checked", () => {
    expect(at({})).toEqual([]);
  });
});
