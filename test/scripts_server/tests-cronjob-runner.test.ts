import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { shellQuote } from "../../scripts_server/freshness.ts";
import { tempDir } from "../support/db.ts";
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

function runner(freshness: string, args: string[]) {
  return startCli(["tests-cronjob-runner", "--freshness-dir", freshness, ...args]);
}

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
    // Only the two outputs remain: no temp files, and the lock is gone.
    expect(fs.readdirSync(out).sort()).toEqual(["all_tests_cronjob_fresh.html", "all_tests_cronjob_fresh.json"]);
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
    await waitFor(() => fs.existsSync(path.join(out, "tests_cronjob_runner.lock")));
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
    expect(fs.existsSync(path.join(out, "tests_cronjob_runner.lock"))).toBe(false);
  });

  test("a stale lock left by a dead process is taken over", async () => {
    const out = tempDir();
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    fs.writeFileSync(path.join(out, "tests_cronjob_runner.lock"), `${dead.pid}\n`);
    const result = await runner(out, ["--cmd", "true"]).done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`took over the stale lock of pid ${dead.pid}`);
    expect(report(out).status).toBe("passed");
    expect(fs.existsSync(path.join(out, "tests_cronjob_runner.lock"))).toBe(false);
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
