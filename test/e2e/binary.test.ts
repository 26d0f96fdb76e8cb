import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import fs from "node:fs";
import path from "node:path";
import pkg from "../../package.json";
import { compiledApp, freePort, waitForHttp } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { waitUntil } from "../support/server-process.ts";

/** Runs the compiled binary in a folder with no source tree around it. */
async function run(args: string[], env: Record<string, string> = {}, cwd = tempDir()) {
  const proc = Bun.spawn([await compiledApp(), ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

describe("the compiled `app` binary", () => {
  test("--version and --help", async () => {
    expect((await run(["--version"])).stdout.trim()).toBe(pkg.version);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["serve", "migrate", "cron-runner", "crontab", "jobs", "notify-stale", "tests-cronjob-runner"]) expect(help.stdout).toContain(cmd);
  }, 60_000);

  test("migrate creates the embedded default ./data/app.db from the embedded migrations", async () => {
    const cwd = tempDir();
    const result = await run(["migrate"], {}, cwd);
    expect(result.code).toBe(0);
    const db = new Database(path.join(cwd, "data/app.db"), { readonly: true });
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
    db.close();
    expect(tables).toEqual(expect.arrayContaining(["users", "cron_jobs", "cron_job_runs"]));
  }, 60_000);

  test.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ CRON_SECRET: "" }, "CRON_SECRET"],
    [{ APP_URL: "not a url" }, "APP_URL"],
    [{ DATABASE_URL: "mysql://x/y" }, "DATABASE_URL"],
  ])("bad configuration %p fails at start with one line naming %s", async (env, name) => {
    const result = await run(["serve"], env);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(name);
  }, 60_000);

  test("a flag overrides the environment", async () => {
    const result = await run(["serve", "--port", "nope"], { PORT: "3000" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("PORT");
  }, 60_000);

  test("serve: generates secrets (0600), runs a due job through POST /api/cron/run, exits 0 on SIGTERM", async () => {
    const cwd = tempDir();
    const port = freePort();
    const server = Bun.spawn([await compiledApp(), "serve"], {
      cwd, env: { PATH: process.env.PATH ?? "", PORT: String(port) }, stdout: "pipe", stderr: "pipe",
    });
    onCleanup(() => { server.kill("SIGKILL"); });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    const secretsFile = path.join(cwd, "data/secrets.json");
    expect(fs.statSync(secretsFile).mode & 0o777).toBe(0o600);
    const { cronSecret } = JSON.parse(fs.readFileSync(secretsFile, "utf8"));

    const db = new Database(path.join(cwd, "data/app.db"));
    db.run(`INSERT INTO cron_jobs (name, job_type, run_at, is_active) VALUES ('e2e', 'noop', ${Date.now() + 3_600_000}, 1)`);
    db.run(`UPDATE cron_jobs SET run_at = ${Date.now() - 1000}, next_run_at = ${Date.now() - 1000}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${cronSecret}` } });
    expect(res.status).toBe(200);
    const body = await res.json();
    // The server's own timer may have claimed it first (the POST then claims nothing and answers
    // while that run is being recorded); either way it runs exactly once.
    const runs = () => db.query<{ name: string; status: string }, []>("SELECT name, status FROM cron_job_runs").all();
    expect(await waitUntil(() => runs().length > 0, 5_000)).toBe(true);
    expect(runs()).toEqual([{ name: "e2e", status: "succeeded" }]);
    expect(db.query("SELECT * FROM cron_jobs").all()).toEqual([]);
    expect(body.claimed).toBeLessThanOrEqual(1);
    db.close();

    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 60_000);

  test("cron-runner --local runs due jobs without a server", async () => {
    const cwd = tempDir();
    expect((await run(["migrate"], {}, cwd)).code).toBe(0);
    const db = new Database(path.join(cwd, "data/app.db"));
    db.run(`INSERT INTO cron_jobs (name, job_type, run_at, is_active) VALUES ('local', 'noop', ${Date.now() - 1000}, 1)`);
    db.run(`INSERT INTO cron_jobs (name, job_type, run_at, is_active) VALUES ('broken', 'no_such_type', ${Date.now() - 1000}, 1)`);
    db.close();
    const result = await run(["cron-runner", "--local"], {}, cwd);
    expect(result.stdout).toMatch(/2 claimed, 1 succeeded, 1 failed, 0 timed out/);
    expect(result.code).toBe(1);
  }, 60_000);
});
