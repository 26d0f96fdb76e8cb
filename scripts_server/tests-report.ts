import type { CommandResult } from "./run-command.ts";
import type { TestCounts, TestFailure, TestsReport, TestsRun, TestsStatus } from "../src/watchdog/tests-report.ts";

const MAX_FAILURES = 50;

export interface ReportInput {
  command: string;
  cwd: string;
  host: string;
  startedAt: number;
  result: CommandResult;
  timeoutMs: number;
  /** The parsed JUnit report, or why there is none. */
  junit: { counts: TestCounts; failures: TestFailure[] } | { missing: string };
  staleAfterMs: number;
  previous: TestsReport | undefined;
  historySize: number;
}

/** Decides the status of a finished run and builds its report. */
export function buildReport(input: ReportInput): TestsReport {
  const { result, junit } = input;
  const parsed = "counts" in junit ? junit : null;
  const { status, reason } = decideStatus(input, parsed);
  const finishedAt = input.startedAt + result.durationMs;
  const run: TestsRun = {
    status,
    startedAt: new Date(input.startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: result.durationMs,
    counts: parsed?.counts ?? null,
  };
  const failures = parsed?.failures ?? [];
  return {
    version: 1,
    ...run,
    reason,
    command: input.command,
    cwd: input.cwd,
    host: input.host,
    exitCode: result.exitCode,
    signal: result.signal,
    countsFrom: parsed ? "junit" : "exit_code",
    failures: failures.slice(0, MAX_FAILURES),
    moreFailures: Math.max(0, failures.length - MAX_FAILURES),
    staleAfter: new Date(finishedAt + input.staleAfterMs).toISOString(),
    staleAfterSeconds: Math.round(input.staleAfterMs / 1000),
    output: result.output,
    history: [run, ...(input.previous?.history ?? [])].slice(0, input.historySize),
  };
}

function decideStatus({ result, timeoutMs, junit }: ReportInput, parsed: { counts: TestCounts } | null): { status: TestsStatus; reason: string } {
  if (result.spawnError) return { status: "error", reason: `the command could not start: ${result.spawnError}` };
  if (result.timedOut) return { status: "timed_out", reason: `timed out after ${Math.round(timeoutMs / 1000)} s; its processes were killed` };
  if (result.interrupted) return { status: "error", reason: `interrupted: ${result.interrupted}` };
  const exit = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  if (!parsed && (result.exitCode === 126 || result.exitCode === 127)) {
    return { status: "error", reason: `the command could not run (exit code ${result.exitCode}: command not found or not executable)` };
  }
  if (!parsed) {
    const note = "missing" in junit ? ` (no test report: ${junit.missing})` : "";
    return result.exitCode === 0
      ? { status: "passed", reason: `the command exited with code 0${note}` }
      : { status: "failed", reason: `the command ${exit}${note}` };
  }
  const { tests, failed } = parsed.counts;
  if (failed > 0) return { status: "failed", reason: `${failed} of ${tests} tests failed` };
  if (result.exitCode !== 0) return { status: "error", reason: `no test failed, but the command ${exit} (an error outside the tests?)` };
  if (tests === 0) return { status: "error", reason: "the report lists no tests" };
  return { status: "passed", reason: `all ${tests} tests passed` };
}

