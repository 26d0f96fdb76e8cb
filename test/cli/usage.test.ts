// The first hour with the `app` binary: wrong flags, help text, closed pipes (spawned processes).
import { beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { renderHelp } from "../../src/cli/help.ts";
import { buildApp } from "../../src/server/app.ts";
import { compiledApp } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { ADMIN_TOKEN, CRON_SECRET, freshDeps } from "../trpc/support.ts";

let binary: string;

beforeAll(async () => {
  binary = await compiledApp();
}, 120_000);

/** Runs the binary with only the given environment (no NO_COLOR unless given), in a fresh directory. */
async function app(args: string[], env: Record<string, string> = {}, cwd = tempDir()) {
  const child = Bun.spawn([binary, ...args], { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr, cwd };
}

/** `bash -c` with pipefail and the binary as `$APP`: a pipeline's exit code is the binary's. */
async function sh(script: string, env: Record<string, string> = {}) {
  const child = Bun.spawn(["bash", "-o", "pipefail", "-c", script], { cwd: tempDir(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin", APP: binary, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

describe("unknown flags and commands", () => {
  test("`app serve --prot 3918` is refused, naming the flag, and starts nothing", async () => {
    const result = await app(["serve", "--prot", "3918"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("app: unknown flag --prot (did you mean --port?) (`app serve --help` shows the usage)\n");
    expect(fs.readdirSync(result.cwd)).toEqual([]);
  });

  test.each([
    [["jobs", "list", "--stat", "dead"], "unknown flag --stat"],
    [["jobs", "get"], "missing argument ID"],
    [["jobs", "get", "1", "2"], "unexpected argument \"2\""],
    [["jobs", "list", "--limit"], "--limit needs a value"],
    [["crontab", "--admin-token", "x"], "unknown flag --admin-token"],
    [["cron-runner", "-x"], "unknown flag -x"],
    [["nope"], "unknown command \"nope\""],
    [["jobs", "nope"], "unknown command \"nope\""],
  ])("app %p: exit 2, %s", async (args, message) => {
    const result = await app(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toBe("");
  });
});

describe("--help", () => {
  test("plain text when stdout is not a terminal, 80 columns at most, only the flags the command uses", async () => {
    for (const command of [[], ["serve"], ["cron-runner"], ["crontab"], ["migrate"], ["jobs"], ["jobs", "update"], ["notify-stale"], ["tests-cronjob-runner"]]) {
      const result = await app([...command, "--help"]);
      expect({ command, code: result.code }).toEqual({ command, code: 0 });
      expect(result.stdout).not.toContain("\u001B[");
      for (const line of result.stdout.split("\n")) expect({ command, line, fits: line.length <= 80 }).toEqual({ command, line, fits: true });
    }
    const crontab = (await app(["crontab", "--help"])).stdout;
    expect(crontab).toContain("--database-url");
    expect(crontab).not.toContain("--admin-token");
    expect(crontab).not.toContain("--db-pool-size");
    const runner = (await app(["cron-runner", "--help"])).stdout;
    expect(runner).toContain("--cron-secret");
    expect(runner).not.toContain("--admin-token");
    expect(runner).not.toContain("--viewer-token");
    const serve = (await app(["serve", "--help"])).stdout;
    for (const flag of ["--viewer-token", "--history-days", "--create-dirs", "--shutdown-grace"]) expect(serve).toContain(flag);
  });

  test("on a terminal: colour unless NO_COLOR, lines within its width", async () => {
    const { default: serve } = await import("../../src/cli/commands/serve.ts");
    const original = process.env.NO_COLOR;
    onCleanup(() => { if (original === undefined) delete process.env.NO_COLOR; else process.env.NO_COLOR = original; });
    delete process.env.NO_COLOR;
    const coloured = await renderHelp(serve, ["app", "serve"], { isTTY: true, columns: 60 });
    expect(coloured).toContain("\u001B[");
    const plain = (s: string) => s.replace(/\u001B\[\d+m/g, "");
    for (const line of plain(coloured).split("\n")) expect(line.length).toBeLessThanOrEqual(60);
    process.env.NO_COLOR = "1";
    expect(await renderHelp(serve, ["app", "serve"], { isTTY: true, columns: 60 })).not.toContain("\u001B[");
  });
});

describe("a closed pipe", () => {
  test("`app jobs list --json | head -1` ends quietly: no EPIPE, no stack", async () => {
    const env = freshDeps();
    const server = buildApp({ ...env.deps, secrets: { cronSecret: CRON_SECRET, adminToken: ADMIN_TOKEN } }).listen({ hostname: "127.0.0.1", port: 0 });
    onCleanup(async () => { await server.stop(true); });
    const url = `http://127.0.0.1:${server.server!.port}`;
    const { createClient } = await import("../../src/client.ts");
    const client = createClient({ url, token: ADMIN_TOKEN });
    await Promise.all(Array.from({ length: 600 }, (_, i) => client.jobs.create.mutate({ name: `job-${i}-${"x".repeat(100)}`, jobType: "noop", cron: "0 3 * * *" })));
    // ~500 jobs of JSON is far more than a pipe holds: the binary writes on after head has gone.
    for (const command of ["jobs list --json --limit 500", "jobs list --limit 500"]) {
      const result = await sh(`"$APP" ${command} | head -1`, { APP_URL: url, ADMIN_TOKEN });
      expect({ command, ...result, stdout: result.stdout.split("\n").length }).toEqual({ command, code: 0, stderr: "", stdout: 2 });
    }
  }, 60_000);
});

describe("--create-dirs", () => {
  test("a DATABASE_URL in a folder that does not exist: exit 2 naming it, unless --create-dirs", async () => {
    const dir = tempDir();
    const file = path.join(dir, "no", "such", "app.db");
    const refused = await app(["migrate", "--database-url", file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`app: DATABASE_URL: the directory ${path.dirname(file)} does not exist (create it, or give --create-dirs)\n`);
    expect(fs.existsSync(path.join(dir, "no"))).toBe(false);
    const created = await app(["migrate", "--database-url", file, "--create-dirs"]);
    expect(created.code).toBe(0);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // The default ./data is created without being asked.
    const defaulted = await app(["migrate"]);
    expect(defaulted.code).toBe(0);
    expect(fs.existsSync(path.join(defaulted.cwd, "data", "app.db"))).toBe(true);
  });
});
