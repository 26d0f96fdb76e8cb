import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { SECRETS } from "../support/server.ts";
import { readJson, ROOT, runCli, startCli, startCronServer } from "./support.ts";

const due = () => new Date(Date.now() - 1_000);

/** `app cron-runner` against `url`, with its own freshness folder. */
function cronRunner(url: string, freshnessDir: string, extra: string[] = [], env: Record<string, string> = {}) {
  return runCli(["cron-runner", "--app-url", url, "--freshness-dir", freshnessDir, ...extra], { CRON_SECRET: SECRETS.cronSecret, ...env });
}

describe("app cron-runner against a real server", () => {
  test("success: runs the due jobs, one summary line, exit 0, marker with the counts", async () => {
    const server = startCronServer();
    for (const name of ["a", "b"]) await addJob(server.store, Date.now(), { name, runAt: due() });
    const dir = tempDir();
    const result = await cronRunner(server.url, dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toMatch(/: 2 claimed, 2 succeeded, 0 failed, 0 timed out in \d+ ms/);
    expect((await server.store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(0);
    const marker = readJson(path.join(dir, "cron_runner.json"));
    expect(marker).toMatchObject({ outcome: "ok", exitCode: 0, url: `${server.url}/api/cron/run`, error: null, tick: { claimed: 2, succeeded: 2, failed: 0, timedOut: 0 } });
    expect(Date.parse(marker.lastOkAt)).toBeGreaterThan(Date.now() - 10_000);
  });

  test("while all jobs are paused: nothing claimed, the summary says so, exit 0", async () => {
    const server = startCronServer();
    await addJob(server.store, Date.now(), { name: "held", runAt: due() });
    await server.store.writeSetting("paused", "true", Date.now());
    const result = await cronRunner(server.url, tempDir());
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/: 0 claimed, 0 succeeded, 0 failed, 0 timed out in \d+ ms \(all jobs are paused: app jobs resume-all\)$/m);
    expect((await server.store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(1);
  });

  test("--limit is passed to the tick", async () => {
    const server = startCronServer();
    for (const name of ["a", "b", "c"]) await addJob(server.store, Date.now(), { name, runAt: due() });
    const result = await cronRunner(server.url, tempDir(), ["--limit", "1"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(": 1 claimed, 1 succeeded");
    expect((await server.store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(2);
  });

  test("without CRON_SECRET it uses the secret generated into the data directory", async () => {
    const server = startCronServer();
    await addJob(server.store, Date.now(), { name: "a", runAt: due() });
    const data = tempDir();
    fs.writeFileSync(path.join(data, "secrets.json"), JSON.stringify(SECRETS), { mode: 0o600 });
    const result = await runCli(["cron-runner", "--app-url", server.url, "--freshness-dir", tempDir()], { DATABASE_URL: path.join(data, "app.db") });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("some jobs failing: exit 1, each failure on stderr", async () => {
    const server = startCronServer();
    await addJob(server.store, Date.now(), { name: "fine", runAt: due() });
    await addJob(server.store, Date.now(), { name: "broken", jobType: "fail", runAt: due() });
    const dir = tempDir();
    const result = await cronRunner(server.url, dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(": 2 claimed, 1 succeeded, 1 failed");
    expect(result.stderr).toContain('"broken" (fail) failed: boom');
    expect(readJson(path.join(dir, "cron_runner.json"))).toMatchObject({ outcome: "jobs_failed", exitCode: 1, tick: { failed: 1 } });
  });

  test("wrong secret: exit 2 with a message about the secret, nothing runs", async () => {
    const server = startCronServer();
    await addJob(server.store, Date.now(), { name: "guarded", runAt: due() });
    const dir = tempDir();
    const result = await cronRunner(server.url, dir, [], { CRON_SECRET: "not-the-secret-0123456789" });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("refused the cron secret (401)");
    expect(result.stderr).toContain("CRON_SECRET");
    expect((await server.store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(1);
    expect(readJson(path.join(dir, "cron_runner.json"))).toMatchObject({ outcome: "refused", exitCode: 2, lastOkAt: null, tick: null });
  });

  test("server down: exit 2 after the retries, well within the timeout; the last good tick is kept", async () => {
    const server = startCronServer();
    const dir = tempDir();
    expect((await cronRunner(server.url, dir)).code).toBe(0);
    const lastOkAt = readJson(path.join(dir, "cron_runner.json")).lastOkAt;
    await server.stop();

    const result = await cronRunner(server.url, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot reach ${server.url}/api/cron/run after 5 attempts`);
    expect(result.ms).toBeGreaterThan(3_500); // 250 + 500 + 1000 + 2000 ms of backoff
    expect(result.ms).toBeLessThan(20_000);
    expect(readJson(path.join(dir, "cron_runner.json"))).toMatchObject({ outcome: "unreachable", exitCode: 2, lastOkAt });
  });

  test("a server that comes up during the retries is reached", async () => {
    const port = freePort();
    const dir = tempDir();
    const run = cronRunner(`http://127.0.0.1:${port}`, dir);
    await Bun.sleep(400);
    startCronServer(port);
    const result = await run;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("the marker is only ever seen whole: readers get the old file or the new one", async () => {
    const server = startCronServer();
    const dir = tempDir();
    const file = path.join(dir, "cron_runner.json");
    let reads = 0;
    let torn: string | undefined;
    let reading = true;
    onCleanup(() => { reading = false; });
    const reader = (async () => {
      while (reading) {
        let text: string;
        try {
          text = fs.readFileSync(file, "utf8");
        } catch {
          await Bun.sleep(0);
          continue;
        }
        reads++;
        try {
          JSON.parse(text);
        } catch {
          torn ??= text;
        }
        await Bun.sleep(0);
      }
    })();
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 3; j++) await addJob(server.store, Date.now(), { name: `r${i}-${j}`, runAt: due() });
      // A file opened before the run keeps its old content: the new marker is a new file renamed over it.
      const before = fs.existsSync(file) ? { text: fs.readFileSync(file, "utf8"), fd: fs.openSync(file, "r") } : undefined;
      expect((await cronRunner(server.url, dir)).code).toBe(0);
      if (before) {
        expect(fs.readFileSync(before.fd, "utf8")).toBe(before.text);
        fs.closeSync(before.fd);
        expect(fs.readFileSync(file, "utf8")).not.toBe(before.text);
      }
    }
    reading = false;
    await reader;
    expect(torn).toBeUndefined();
    expect(reads).toBeGreaterThan(0);
    expect(fs.readdirSync(dir)).toEqual(["cron_runner.json"]); // no temp files left behind
  });

  test("bad configuration exits 2 at start with one line", async () => {
    const result = await startCli(["cron-runner", "--app-url", "ftp://x"]).done;
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("APP_URL");
  });

  test("loads no server, ORM or tRPC: none of them is in its module graph", async () => {
    const build = await Bun.build({ entrypoints: [path.join(ROOT, "scripts_server/cron-runner.ts")], target: "bun" });
    expect(build.success).toBe(true);
    const code = await build.outputs[0]!.text();
    for (const heavy of ["node_modules/elysia", "node_modules/drizzle-orm", "node_modules/@trpc", "src/store/", "src/runner/", "src/server/"]) {
      expect(code).not.toContain(heavy);
    }
  });
});
