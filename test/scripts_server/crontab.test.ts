import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { compiledApp } from "../support/binary.ts";
import { tempDir } from "../support/db.ts";
import { SECRETS } from "../support/server.ts";
import { BUN, ROOT, runCli, startCronServer } from "./support.ts";

/**
 * What cron runs of a crontab line: the part after the five time fields, where an unescaped `%`
 * ends the command (the rest is its stdin) and `\%` is a plain `%`.
 */
function cronCommand(line: string): string {
  const command = line.replace(/^(\S+\s+){5}/, "");
  const end = command.search(/(?<!\\)%/);
  return (end === -1 ? command : command.slice(0, end)).replace(/\\%/g, "%");
}

/** Runs a crontab line as cron does: `sh -c` from the home directory, with a bare environment. */
async function runAsCron(line: string, home: string) {
  const proc = Bun.spawn(["/bin/sh", "-c", cronCommand(line)], { cwd: home, env: { PATH: "/usr/bin:/bin", HOME: home, SHELL: "/bin/sh" }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

describe("app crontab", () => {
  test("prints the three seed lines with absolute paths and the configured environment; a printed line runs as cron would run it", async () => {
    const server = startCronServer();
    const cwd = tempDir();
    fs.mkdirSync(path.join(cwd, "data"));
    fs.writeFileSync(path.join(cwd, "data", "secrets.json"), JSON.stringify(SECRETS), { mode: 0o600 });

    const result = await runCli(["crontab"], { DATABASE_URL: "data/app.db", APP_URL: server.url, FRESHNESS_DIR: "fresh", CRON_SECRET: SECRETS.cronSecret }, cwd);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n").filter((l) => !l.startsWith("#"));
    expect(lines).toHaveLength(3);
    const env = `DATABASE_URL=${cwd}/data/app.db APP_URL=${server.url} FRESHNESS_DIR=${cwd}/fresh`;
    const self = `${BUN} ${path.join(ROOT, "src/cli/index.ts")}`;
    expect(lines).toEqual(["cron-runner", "tests-cronjob-runner", "notify-stale"].map((cmd) => `* * * * * cd ${cwd} && ${env} ${self} ${cmd}`));
    expect(result.stdout).not.toContain(SECRETS.cronSecret);
    expect(result.stdout).toContain("# CRON_SECRET is set here but left out");

    // cron runs the command part with sh, from the user's home, with a bare environment.
    const ran = await runAsCron(lines[0]!, "/");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain("0 claimed");
    expect(JSON.parse(fs.readFileSync(path.join(cwd, "fresh", "cron_runner.json"), "utf8")).outcome).toBe("ok");
  });

  test("--include-secrets writes the secret in; % is escaped for cron", async () => {
    const result = await runCli(["crontab", "--include-secrets", "--notify-args", "--webhook https://chat.example/hook?x=%41"], { CRON_SECRET: SECRETS.cronSecret }, tempDir());
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n").filter((l) => l.startsWith("* "));
    for (const line of lines) expect(line).toContain(`CRON_SECRET=${SECRETS.cronSecret}`);
    expect(lines[2]).toEndWith("notify-stale --webhook https://chat.example/hook?x=\\%41");
  });

  test("paths with a space, a quote, $() and % : only the values are quoted, and each line runs under sh as cron runs it", async () => {
    // A folder name an attacker or an unlucky user could choose; `$(…)` and backticks must stay text.
    const weird = path.join(tempDir(), "my app's $(touch PWNED) `touch PWNED2` 100% \"x\"");
    fs.mkdirSync(weird);
    const cwd = path.join(weird, "work dir");
    fs.mkdirSync(cwd);
    // The compiled binary at a weird path: the lines name it by its own path.
    const binary = path.join(weird, "bin $(id)", "app");
    fs.mkdirSync(path.dirname(binary));
    fs.linkSync(await compiledApp(), binary);
    const env = { DATABASE_URL: path.join(weird, "data", "app.db"), APP_URL: "http://127.0.0.1:1/?a='b'&c=$(id)", FRESHNESS_DIR: path.join(weird, "fresh ness") };
    const printed = Bun.spawnSync([binary, "crontab", "--tests-args", "--min-interval 3600", "--notify-args", "--webhook 'https://chat.example/hook?x=%41'"], {
      cwd, env: { PATH: "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe",
    });
    expect(printed.stderr.toString()).toBe("");
    expect(printed.exitCode).toBe(0);
    const lines = printed.stdout.toString().split("\n").filter((l) => l.startsWith("* "));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`DATABASE_URL='${env.DATABASE_URL.replace(/'/g, "'\\''").replace(/%/g, "\\%")}'`);
    expect(printed.stdout.toString()).toContain("--min-interval");

    // The binary becomes a script that records its arguments, environment and directory.
    const record = path.join(tempDir(), "record");
    fs.rmSync(binary);
    fs.writeFileSync(binary, `#!/bin/sh\n{ printf '%s\\0' "$@"; printf '\\n'; printf '%s\\n' "$DATABASE_URL" "$APP_URL" "$FRESHNESS_DIR" "$(pwd)"; } > '${record}'\n`, { mode: 0o755 });
    const home = tempDir();
    const expected = [["cron-runner"], ["tests-cronjob-runner", "--min-interval", "3600"], ["notify-stale", "--webhook", "https://chat.example/hook?x=%41"]];
    for (const [i, line] of lines.entries()) {
      const ran = await runAsCron(line, home);
      expect(ran).toEqual({ code: 0, stdout: "", stderr: "" });
      const [argv, ...values] = fs.readFileSync(record, "utf8").split("\n");
      expect(argv!.split("\0").slice(0, -1)).toEqual(expected[i]!);
      expect(values.slice(0, 4)).toEqual([env.DATABASE_URL, env.APP_URL, env.FRESHNESS_DIR, cwd]);
    }
    for (const dir of [home, cwd, weird]) expect(fs.readdirSync(dir).filter((n) => n.startsWith("PWNED"))).toEqual([]);
  }, 120_000);

  test("a control character in a value is refused with one line naming it; nothing is printed", async () => {
    for (const [name, value] of [["FRESHNESS_DIR", "/tmp/a\n* * * * * touch /tmp/PWNED"], ["APP_URL", "http://127.0.0.1:1/\u001b[2J"]] as const) {
      const result = await runCli(["crontab"], { [name]: value }, tempDir());
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toStartWith(`app: ${name} contains a control character (`);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
    const extra = await runCli(["crontab", "--notify-args", "--webhook x\n* * * * * evil"], {}, tempDir());
    expect(extra.code).toBe(2);
    expect(extra.stderr).toStartWith("app: --notify-args contains a control character (\\n)");
  });
});
