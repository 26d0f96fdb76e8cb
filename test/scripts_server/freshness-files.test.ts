import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../src/watchdog/files.ts";
import { acquireLock } from "../../scripts_server/lock-file.ts";
import { tempDir } from "../support/db.ts";
import { SECRETS } from "../support/server.ts";
import { runCli, startCronServer } from "./support.ts";

const VICTIM_TEXT = "precious: must never change\n";

/** A file outside the freshness folder that a planted symlink points at. */
function victim(): string {
  const file = path.join(tempDir(), "victim.txt");
  fs.writeFileSync(file, VICTIM_TEXT, { mode: 0o644 });
  return file;
}

const isPlainFile = (file: string) => fs.lstatSync(file).isFile();
const leftovers = (dir: string) => fs.readdirSync(dir).filter((name) => name.endsWith(".tmp"));

describe("files in FRESHNESS_DIR are written without following symlinks", () => {
  test("writeFileAtomic: a symlink at the final name is replaced, not followed; symlinks at the old predictable temporary names are ignored", () => {
    const dir = tempDir();
    const target = victim();
    const file = path.join(dir, "cron_runner.json");
    fs.symlinkSync(target, file);
    // The names the old code used: `.NAME.PID-N.tmp`.
    for (let n = 1; n <= 50; n++) fs.symlinkSync(target, path.join(dir, `.cron_runner.json.${process.pid}-${n}.tmp`));
    for (let i = 0; i < 5; i++) writeFileAtomic(file, `{"n":${i}}\n`);
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
    expect(isPlainFile(file)).toBe(true);
    expect(fs.readFileSync(file, "utf8")).toBe('{"n":4}\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    writeFileAtomic(path.join(dir, "state.json"), "{}\n", 0o600);
    expect(fs.statSync(path.join(dir, "state.json")).mode & 0o777).toBe(0o600);
    expect(leftovers(dir)).toHaveLength(50); // only the planted ones: ours were renamed
  });

  test("the lock file: a symlink or a hard link at its name is refused, the target unchanged", () => {
    const dir = tempDir();
    const target = victim();
    fs.symlinkSync(target, path.join(dir, "a.lock"));
    expect(() => acquireLock(path.join(dir, "a.lock"), { now: Date.now() })).toThrow(/cannot open the lock file .*a\.lock: it is a symlink \(not followed\)/);
    fs.linkSync(target, path.join(dir, "b.lock"));
    expect(() => acquireLock(path.join(dir, "b.lock"), { now: Date.now() })).toThrow(/refusing the lock file .*b\.lock: it has 2 hard links; remove it/);
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
  });

  test("app cron-runner replaces a planted cron_runner.json symlink; the target is unchanged", async () => {
    const server = startCronServer();
    const dir = tempDir();
    const target = victim();
    fs.symlinkSync(target, path.join(dir, "cron_runner.json"));
    const result = await runCli(["cron-runner", "--app-url", server.url, "--freshness-dir", dir], { CRON_SECRET: SECRETS.cronSecret });
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
    expect(isPlainFile(path.join(dir, "cron_runner.json"))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "cron_runner.json"), "utf8")).outcome).toBe("ok");
    expect(leftovers(dir)).toEqual([]);
  });

  test("app tests-cronjob-runner replaces planted page and JSON symlinks; a planted lock symlink stops it (exit 2), never followed", async () => {
    const dir = tempDir();
    const target = victim();
    for (const name of ["all_tests_cronjob_fresh.html", "all_tests_cronjob_fresh.json"]) fs.symlinkSync(target, path.join(dir, name));
    const ran = await runCli(["tests-cronjob-runner", "--freshness-dir", dir, "--cmd", "true", "--min-interval", "0"]);
    expect(ran.code).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
    for (const name of ["all_tests_cronjob_fresh.html", "all_tests_cronjob_fresh.json"]) expect(isPlainFile(path.join(dir, name))).toBe(true);

    const locked = tempDir();
    fs.symlinkSync(target, path.join(locked, "tests_cronjob_runner.lock"));
    const refused = await runCli(["tests-cronjob-runner", "--freshness-dir", locked, "--cmd", "true"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("tests_cronjob_runner.lock: it is a symlink (not followed)");
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
  });

  test("app notify-stale replaces a planted state symlink (starting a new state); a planted lock symlink stops it (exit 2)", async () => {
    const dir = tempDir();
    const target = victim();
    fs.symlinkSync(target, path.join(dir, "notify_stale_state.json"));
    const env = { DATABASE_URL: path.join(dir, "none.db") };
    const ran = await runCli(["notify-stale", "--freshness-dir", dir, "--skip", "tests,overdue_jobs,dead_jobs,failing_jobs"], env);
    expect(ran.stderr).toContain("notify_stale_state.json: it is a symlink (not followed); starting a new state");
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
    expect(isPlainFile(path.join(dir, "notify_stale_state.json"))).toBe(true);
    expect(fs.statSync(path.join(dir, "notify_stale_state.json")).mode & 0o777).toBe(0o600);

    const locked = tempDir();
    fs.symlinkSync(target, path.join(locked, "notify_stale.lock"));
    const refused = await runCli(["notify-stale", "--freshness-dir", locked, "--skip", "tests,overdue_jobs,dead_jobs,failing_jobs"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("notify_stale.lock: it is a symlink (not followed)");
    expect(fs.readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
  });
});
