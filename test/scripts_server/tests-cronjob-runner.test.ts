import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { shellQuote } from "../../src/watchdog/files.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { BUN, isRunning, readJson, runCli, startCli, waitFor } from "./support.ts";

const PASSING = `import { test, expect } from "bun:test";
test("adds", () => { expect(1 + 1).toBe(2); });
test("concatenates", () => { expect("a" + "b").toBe("ab"); });
`;
const FAILING = `import { test, expect, describe } from "bun:test";
test("adds", () => { expect(1 + 1).toBe(2); });
describe("maths", () => {
  test("is broken", () => { expect(2 + 2).toBe(5); });
});
test.skip("later", () => {});
`;
const HTML_NAME = `import { test, expect } from "bun:test";
test("<script>alert(1)</script>", () => { expect("<b>bold</b>").toBe("<i>x</i>"); });
`;

/** A folder with one test file, and the command that runs it with a JUnit report. */
function suite(source: string): { dir: string; cmd: string } {
  const dir = tempDir("cronjobs-suite-");
  fs.writeFileSync(path.join(dir, "fixture.test.ts"), source);
  return { dir, cmd: `${shellQuote(BUN)} test ./fixture.test.ts --reporter=junit --reporter-outfile={junit}` };
}

/**
 * The runner on `freshness`; `--min-interval 0` unless given, so runs in a row are not skipped.
 * Its temporary files go to a folder of the test's (`TMPDIR`): a runner killed with SIGKILL
 * cannot remove its own.
 */
function runner(freshness: string, args: string[]) {
  return startCli(["tests-cronjob-runner", "--freshness-dir", freshness, ...(args.includes("--min-interval") ? [] : ["--min-interval", "0"]), ...args], { TMPDIR: tempDir() });
}

const LOCK = "tests_cronjob_runner.lock";
/** The lock file names a holder (it is written just after the lock is taken). */
const lockHeld = (dir: string) => fs.existsSync(path.join(dir, LOCK)) && fs.readFileSync(path.join(dir, LOCK), "utf8").includes('"pid"');

const page = (dir: string) => fs.readFileSync(path.join(dir, "all_tests_cronjob_fresh.html"), "utf8");
const report = (dir: string) => readJson(path.join(dir, "all_tests_cronjob_fresh.json"));

describe("app tests-cronjob-runner", () => {
  test("passing suite: status passed with counts from the JUnit report, page and JSON written whole", async () => {
    const { dir, cmd } = suite(PASSING);
    const out = tempDir();
    const result = await runner(out, ["--cmd", cmd, "--dir", dir, "--stale-after", "600"]).done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("tests passed: all 2 tests passed");
    const json = report(out);
    expect(json).toMatchObject({ status: "passed", countsFrom: "junit", counts: { tests: 2, passed: 2, failed: 0, skipped: 0 }, failures: [], cwd: dir, exitCode: 0, staleAfterSeconds: 600 });
    expect(json.command).toBe(cmd);
    expect(Date.parse(json.staleAfter) - Date.parse(json.finishedAt)).toBe(600_000);
    expect(json.history).toHaveLength(1);
    const html = page(out);
    expect(html).toContain('<span id="status" class="status status-passed">passed</span>');
    expect(html).toContain("2 total: 2 passed, 0 failed");
    // Only the two outputs and the (released, empty) lock file remain: no temp files.
    expect(fs.readdirSync(out).sort()).toEqual(["all_tests_cronjob_fresh.html", "all_tests_cronjob_fresh.json", LOCK]);
    expect(fs.readFileSync(path.join(out, LOCK), "utf8")).toBe("");
  });

  test("failing suite: status failed, each failing test with its message; the history grows", async () => {
    const { dir, cmd } = suite(FAILING);
    const out = tempDir();
    expect((await runner(out, ["--cmd", cmd, "--dir", dir]).done).code).toBe(1);
    const result = await runner(out, ["--cmd", cmd, "--dir", dir]).done;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("tests failed: 1 of 3 tests failed");
    const json = report(out);
    expect(json).toMatchObject({ status: "failed", counts: { tests: 3, passed: 1, failed: 1, skipped: 1 } });
    expect(json.failures).toHaveLength(1);
    expect(json.failures[0]).toMatchObject({ name: "maths > is broken", file: "fixture.test.ts" });
    expect(json.failures[0].message).toContain("Expected: 5");
    expect(json.history.map((r: { status: string }) => r.status)).toEqual(["failed", "failed"]);
    const html = page(out);
    expect(html).toContain("maths &#62; is broken");
    expect(html).toContain("Expected: 5");
  });

  test("a test name with HTML in it appears as text, never as markup", async () => {
    const { dir, cmd } = suite(HTML_NAME);
    const out = tempDir();
    expect((await runner(out, ["--cmd", cmd, "--dir", dir]).done).code).toBe(1);
    expect(report(out).failures[0].name).toBe("<script>alert(1)</script>");
    const html = page(out);
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain("<b>bold</b>");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html.match(/<script\b/g)).toHaveLength(1); // the page's own stale check, allowed by its CSP hash
  });

  test("a suite that hangs: killed at the timeout with everything it started, status timed out", async () => {
    const out = tempDir();
    const pidFile = path.join(tempDir(), "child.pid");
    const cmd = `sh -c 'sleep 300 & echo $! > ${pidFile}; wait' & wait`;
    const result = await runner(out, ["--cmd", cmd, "--timeout", "1"]).done;
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(10_000);
    expect(result.stdout).toContain("tests timed out");
    expect(report(out)).toMatchObject({ status: "timed_out", counts: null });
    expect(page(out)).toContain('<span id="status" class="status status-timed_out">timed out</span>');
    const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
    await waitFor(() => !isRunning(grandchild), 2_000);
  });

  test("two invocations at once: the second exits at once with a message, the first completes", async () => {
    const out = tempDir();
    const first = runner(out, ["--cmd", "sleep 1.5; echo slow suite done"]);
    await waitFor(() => lockHeld(out));
    const second = await runner(out, ["--cmd", "echo should not run"]).done;
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`another run is in progress (pid ${first.proc.pid}`);
    expect(second.ms).toBeLessThan(1_500);
    expect(fs.existsSync(path.join(out, "all_tests_cronjob_fresh.json"))).toBe(false);
    const done = await first.done;
    expect(done.code).toBe(0);
    const json = report(out);
    expect(json).toMatchObject({ status: "passed", countsFrom: "exit_code", counts: null });
    expect(json.output).toContain("slow suite done");
    expect(json.history).toHaveLength(1);
    expect(lockHeld(out)).toBe(false);
  });

  test("a holder killed with SIGKILL leaves no lock behind: the next run takes it over at once, even while the killed run's suite lives on", async () => {
    const out = tempDir();
    const pidFile = path.join(tempDir(), "suite.pid");
    const holder = runner(out, ["--cmd", `echo $$ > ${shellQuote(pidFile)}; exec sleep 60`]);
    await waitFor(() => lockHeld(out) && fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() !== "");
    const orphan = Number(fs.readFileSync(pidFile, "utf8"));
    onCleanup(() => { try { process.kill(orphan, "SIGKILL"); } catch {} });
    expect((await runner(out, ["--cmd", "true"]).done).stdout).toContain(`another run is in progress (pid ${holder.proc.pid}`);

    holder.proc.kill("SIGKILL");
    await holder.done;
    expect(isRunning(orphan)).toBe(true); // its suite still runs, and holds no lock
    const result = await runner(out, ["--cmd", "echo second run"]).done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`the previous run (pid ${holder.proc.pid} on `);
    expect(result.stderr).toContain("ended without releasing its lock; taken over");
    expect(report(out)).toMatchObject({ status: "passed", output: expect.stringContaining("second run") });
  });

  test("20 runners started at once never hold the lock twice; the others exit 0 saying a run is in progress", async () => {
    const out = tempDir();
    const journal = path.join(tempDir(), "journal");
    // Each run records its entry and exit with the time in ns (O_APPEND: lines never interleave).
    const stamp = "$(date +%s%N)";
    const cmd = `echo "enter $PPID ${stamp}" >> ${shellQuote(journal)}; sleep 0.3; echo "leave $PPID ${stamp}" >> ${shellQuote(journal)}`;
    // A holder that died without releasing: all 20 race for its lock too.
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    fs.writeFileSync(path.join(out, LOCK), `${JSON.stringify({ pid: dead.pid, host: os.hostname(), startedAt: new Date().toISOString() })}\n`);
    const runs = await Promise.all(Array.from({ length: 20 }, () => runner(out, ["--cmd", cmd]).done));
    for (const r of runs) expect(r.code).toBe(0);
    const ran = runs.filter((r) => r.stdout.includes("tests passed"));
    const refused = runs.filter((r) => r.stdout.includes("another run is in progress"));
    expect(ran.length + refused.length).toBe(20);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);

    const lines = fs.readFileSync(journal, "utf8").trim().split("\n").map((l) => l.split(" "));
    expect(lines).toHaveLength(2 * ran.length);
    // Strictly enter, leave, enter, leave…, each leave by the run that entered, and the times never overlap.
    for (let i = 0; i < lines.length; i += 2) {
      const [enter, leave] = [lines[i]!, lines[i + 1]!];
      expect([enter[0], leave[0]]).toEqual(["enter", "leave"]);
      expect(leave[1]).toBe(enter[1]!);
      expect(Number(leave[2])).toBeGreaterThanOrEqual(Number(enter[2]));
      if (i > 0) expect(Number(enter[2])).toBeGreaterThanOrEqual(Number(lines[i - 1]![2]));
    }
    expect(report(out).history).toHaveLength(ran.length);
    expect(ran.filter((r) => r.stderr.includes(`the previous run (pid ${dead.pid} `))).toHaveLength(1);
  }, 60_000);

  test("--min-interval: a run soon after the last one is skipped (exit 0, one line saying when the next may start)", async () => {
    const out = tempDir();
    expect((await runner(out, ["--cmd", "echo first", "--min-interval", "900"]).done).code).toBe(0);
    const finished = Date.parse(report(out).finishedAt);
    const skipped = await runner(out, ["--cmd", "echo second", "--min-interval", "900"]).done;
    expect(skipped.code).toBe(0);
    const next = new Date(finished + 900_000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    expect(skipped.stdout).toMatch(new RegExp(`^tests-cronjob-runner: skipped: the last run finished \\d+ s ago \\(.+\\), less than --min-interval 900 s; the next run may start at ${next}\\n$`));
    expect(report(out).output).toContain("first");
    expect(report(out).history).toHaveLength(1);
    // Past the interval (here: 0) it runs again.
    expect((await runner(out, ["--cmd", "echo third", "--min-interval", "0"]).done).code).toBe(0);
    expect(report(out).output).toContain("third");
    // The default is 900 s.
    expect((await runCli(["tests-cronjob-runner", "--freshness-dir", out, "--cmd", "echo fourth"])).stdout).toContain("less than --min-interval 900 s");
    const bad = await runCli(["tests-cronjob-runner", "--freshness-dir", out, "--min-interval", "-1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("app: --min-interval must be a whole number of seconds ≥ 0\n");
  });

  test("without a report the exit code decides; a command that cannot run is an error (exit 2)", async () => {
    const out = tempDir();
    expect((await runner(out, ["--cmd", "exit 3"]).done).code).toBe(1);
    expect(report(out)).toMatchObject({ status: "failed", countsFrom: "exit_code", exitCode: 3 });
    expect((await runner(out, ["--cmd", "no-such-command-xyz"]).done).code).toBe(2);
    expect(report(out)).toMatchObject({ status: "error", exitCode: 127 });
    expect(report(out).history).toHaveLength(2);
  });

  test("the report path is also given as $JUNIT_REPORT", async () => {
    const { dir } = suite(PASSING);
    const out = tempDir();
    const cmd = `${shellQuote(BUN)} test ./fixture.test.ts --reporter=junit --reporter-outfile="$JUNIT_REPORT"`;
    expect((await runCli(["tests-cronjob-runner", "--freshness-dir", out, "--cmd", cmd, "--dir", dir])).code).toBe(0);
    expect(report(out)).toMatchObject({ countsFrom: "junit", counts: { passed: 2 } });
  });
});
