import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../support/db.ts";
import { SECRETS } from "../support/server.ts";
import { BUN, ROOT, runCli, startCronServer } from "./support.ts";

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
    const command = lines[0]!.replace(/^(\S+\s+){5}/, "");
    const proc = Bun.spawn(["/bin/sh", "-c", command], { cwd: "/", env: { PATH: "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe" });
    expect(await proc.exited).toBe(0);
    expect(await new Response(proc.stdout).text()).toContain("0 claimed");
    expect(JSON.parse(fs.readFileSync(path.join(cwd, "fresh", "cron_runner.json"), "utf8")).outcome).toBe("ok");
  });

  test("--include-secrets writes the secret in; % is escaped for cron", async () => {
    const result = await runCli(["crontab", "--include-secrets", "--notify-args", "--webhook https://chat.example/hook?x=%41"], { CRON_SECRET: SECRETS.cronSecret }, tempDir());
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n").filter((l) => l.startsWith("* "));
    for (const line of lines) expect(line).toContain(`CRON_SECRET=${SECRETS.cronSecret}`);
    expect(lines[2]).toEndWith("notify-stale --webhook https://chat.example/hook?x=\\%41");
  });
});
