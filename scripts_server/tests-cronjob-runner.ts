/**
 * `app tests-cronjob-runner`: runs the test command under a lock with a timeout, and publishes
 * the outcome as `freshness/all_tests_cronjob_fresh.html` and its JSON twin (SPEC §8).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EXIT } from "../src/exit-codes.ts";
import { systemClock } from "../src/clock.ts";
import type { Config } from "../src/config.ts";
import { errorMessage } from "../src/errors.ts";
import { escapeControl } from "../src/text/escape.ts";
import { formatAge } from "../src/watchdog/check.ts";
import { ensureDir, FRESHNESS_FILES, readJsonFile, shellQuote, writeFileAtomic } from "../src/watchdog/files.ts";
import { parseJUnit } from "./junit.ts";
import { acquireLock } from "./lock-file.ts";
import { runCommand } from "./run-command.ts";
import { selfInvocation } from "./self.ts";
import { renderTestsPage } from "../src/watchdog/tests-page.ts";
import { asTestsReport, STATUS_LABEL, type TestsReport } from "../src/watchdog/tests-report.ts";
import { buildReport, type ReportInput } from "./tests-report.ts";

/** The project's own suite; `$JUNIT_REPORT` is where the command writes its JUnit report. */
export const DEFAULT_TEST_COMMAND = `bun test --reporter=junit --reporter-outfile="$JUNIT_REPORT"`;

/** From source, the Bun running us runs the suite; the compiled binary finds `bun` on `PATH`. */
function defaultCommand(compiled: boolean): string {
  return compiled ? DEFAULT_TEST_COMMAND : DEFAULT_TEST_COMMAND.replace(/^bun /, `${shellQuote(process.execPath)} `);
}

export interface TestsCronjobOptions {
  /** A shell command (`sh -c`); `{junit}` becomes the report path, also given as `$JUNIT_REPORT`. */
  command: string | undefined;
  /** Where it runs (default: the source checkout when run from source, else the current directory). */
  cwd: string | undefined;
  timeoutMs: number;
  /** The page counts as stale this long after the run ended. */
  staleAfterMs: number;
  /** Runs kept in the history. */
  historySize: number;
  /** A run is skipped when the last one finished less than this long ago (0: never skipped). */
  minIntervalMs: number;
}

/** Runs the suite once; answers 0 passed (or another run holds the lock), 1 failed or timed out, 2 error. */
export async function runTestsCronjob(config: Pick<Config, "freshnessDir">, options: TestsCronjobOptions): Promise<number> {
  const self = selfInvocation();
  const cwd = path.resolve(options.cwd ?? self.sourceDir ?? process.cwd());
  const dir = config.freshnessDir;
  const files = { json: path.join(dir, FRESHNESS_FILES.testsJson), html: path.join(dir, FRESHNESS_FILES.testsHtml) };
  ensureDir(dir);

  const lock = acquireLock(path.join(dir, FRESHNESS_FILES.testsLock), { now: systemClock.now() });
  if (!lock.acquired) {
    const who = lock.holder ? ` (pid ${lock.holder.pid} on ${lock.holder.host}${lock.holder.startedAt ? `, since ${lock.holder.startedAt}` : ""})` : "";
    process.stdout.write(`tests-cronjob-runner: another run is in progress${who}; exiting\n`);
    return EXIT.OK;
  }
  // Checked under the lock: the run that just finished is in the report by now.
  const previous = readPrevious(files.json);
  const now = systemClock.now();
  const lastFinished = previous ? Date.parse(previous.finishedAt) : Number.NaN;
  if (now >= lastFinished && now - lastFinished < options.minIntervalMs) {
    lock.release();
    const ago = formatAge(Math.round((now - lastFinished) / 1000));
    process.stdout.write(`tests-cronjob-runner: skipped: the last run finished ${ago} ago (${utcTime(lastFinished)}), less than --min-interval ${options.minIntervalMs / 1000} s; the next run may start at ${utcTime(lastFinished + options.minIntervalMs)}\n`);
    return EXIT.OK;
  }
  if (lock.tookOverFrom) process.stderr.write(`tests-cronjob-runner: the previous run (pid ${lock.tookOverFrom.pid} on ${lock.tookOverFrom.host}) ended without releasing its lock; taken over\n`);

  // Our own SIGTERM/SIGINT/SIGHUP stop the suite's whole process group, and the run is still recorded.
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => stop.abort(new Error(`received ${signal}`));
  const signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-junit-"));
  try {
    const junitFile = path.join(tmp, "junit.xml");
    const command = options.command ?? defaultCommand(self.compiled);
    const env = { ...process.env, JUNIT_REPORT: junitFile, PATH: searchPath(cwd) };
    const startedAt = systemClock.now();
    const result = await runCommand(command.replaceAll("{junit}", shellQuote(junitFile)), { cwd, env, timeoutMs: options.timeoutMs, signal: stop.signal });
    const report = buildReport({
      command, cwd, host: os.hostname(), startedAt, result, timeoutMs: options.timeoutMs, junit: readJUnit(junitFile),
      staleAfterMs: options.staleAfterMs, previous, historySize: options.historySize,
    });
    writeFileAtomic(files.json, `${JSON.stringify(report, null, 2)}\n`);
    writeFileAtomic(files.html, renderTestsPage(report));
    process.stdout.write(`${escapeControl(`tests ${STATUS_LABEL[report.status]}: ${report.reason} (${(report.durationMs / 1000).toFixed(1)} s) — ${files.html}`)}\n`);
    return report.status === "passed" ? EXIT.OK : report.status === "error" ? EXIT.UNUSABLE : EXIT.FAILED;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    fs.rmSync(tmp, { recursive: true, force: true });
    lock.release();
  }
}

/** `2026-12-01 14:45:12 UTC` */
const utcTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

/** `PATH` for the command: the project's `node_modules/.bin` first, as npm scripts have it. */
function searchPath(cwd: string): string {
  return [path.join(cwd, "node_modules", ".bin"), process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(path.delimiter);
}

function readJUnit(file: string): ReportInput["junit"] {
  let xml: string;
  try {
    xml = fs.readFileSync(file, "utf8");
  } catch {
    return { missing: "the command wrote none to $JUNIT_REPORT" };
  }
  try {
    return parseJUnit(xml);
  } catch (err) {
    return { missing: `unreadable JUnit report: ${errorMessage(err)}` };
  }
}

/** The previous report, for the history; a missing or damaged one starts a new history. */
function readPrevious(file: string): TestsReport | undefined {
  try {
    const value = readJsonFile(file);
    return value === undefined ? undefined : asTestsReport(value, file);
  } catch {
    return undefined;
  }
}
