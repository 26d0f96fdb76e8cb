import path from "node:path";
import { beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { resolveSecrets } from "../../src/secrets.ts";
import { buildApp } from "../../src/server/app.ts";
import { compiledApp } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { ADMIN_TOKEN, CRON_SECRET, freshDeps } from "../trpc/support.ts";

let binary: string;

beforeAll(async () => {
  binary = await compiledApp();
}, 120_000);

/** The real app listening on a free port, with `secrets`; stopped after the test. */
function server(secrets = { cronSecret: CRON_SECRET, adminToken: ADMIN_TOKEN }) {
  const env = freshDeps();
  const app = buildApp({ ...env.deps, secrets }).listen({ hostname: "127.0.0.1", port: 0 });
  onCleanup(async () => { await app.stop(true); });
  return { ...env, url: `http://127.0.0.1:${app.server!.port}` };
}

/** Runs `app jobs …` as a user would: its own working directory, only the given environment. */
async function app(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn([binary, "jobs", ...args], {
    cwd: tempDir(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

/** A port nothing listens on. */
function closedPort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

describe("app jobs (the compiled binary) against a running server", () => {
  test("add, list, get, run, pause, resume, update, runs, types, rm: exit 0 with tables or --json", async () => {
    const { url, store } = server();
    const env = { APP_URL: url, ADMIN_TOKEN };

    const added = await app(["add", "nightly", "--type", "noop", "--cron", "0 3 * * *", "--tz", "Europe/Paris", "--json"], env);
    expect(added).toMatchObject({ code: 0, stderr: "" });
    const job = JSON.parse(added.stdout) as { id: number; cron: string; timezone: string; state: string };
    expect(job).toMatchObject({ cron: "0 3 * * *", timezone: "Europe/Paris", state: "active" });
    expect(await store.getJob(job.id)).toBeDefined();

    const once = await app(["add", "noop", "--run-at", "+1h"], env);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^id\s+\d+$/m);
    expect(once.stdout).toMatch(/^schedule\s+once$/m);

    const table = await app(["list"], env);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s+NAME\s+TYPE\s+USER\s+STATE\s+SCHEDULE\s+NEXT RUN/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain("cron 0 3 * * * (Europe/Paris)");

    const listed = JSON.parse((await app(["list", "--json", "--type", "noop", "--search", "night"], env)).stdout);
    expect(listed).toEqual({ items: [expect.objectContaining({ id: job.id, name: "nightly" })], nextCursor: null });

    expect((await app(["get", String(job.id)], env)).stdout).toMatch(/^name\s+nightly$/m);
    const run = await app(["run", String(job.id)], env);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(new RegExp(`^job ${job.id} \\(nightly\\): succeeded in \\d+ ms$`, "m"));
    expect((await app(["pause", String(job.id)], env)).stdout).toMatch(/^state\s+paused$/m);
    expect((await app(["resume", String(job.id)], env)).stdout).toMatch(/^state\s+active$/m);
    const updated = await app(["update", String(job.id), "--cron", "none", "--every", "15", "--payload", "null", "--json"], env);
    expect(JSON.parse(updated.stdout)).toMatchObject({ cron: null, intervalMinutes: 15 });

    const runs = await app(["runs", "--job", String(job.id)], env);
    expect(runs.stdout).toMatch(/^ID\s+JOB\s+NAME\s+STATUS/);
    expect(runs.stdout).toContain("succeeded");
    expect((await app(["types"], env)).stdout).toMatch(/^noop\s+Does nothing and succeeds\.\s+none$/m);

    expect(await app(["rm", String(job.id)], env)).toMatchObject({ code: 0, stdout: `deleted job ${job.id}\n` });
    expect(await store.getJob(job.id)).toBeUndefined();
  });

  test("a request the server rejects exits 1 with the server's message naming the field", async () => {
    const { url, store } = server();
    const env = { APP_URL: url, ADMIN_TOKEN };
    const unknownType = await app(["add", "report", "--type", "ghost", "--run-at", "+5m"], env);
    expect(unknownType).toMatchObject({ code: 1, stdout: "" });
    expect(unknownType.stderr).toBe('app: jobType: unknown job type "ghost" (known: invalidate_pending_registration, invalidate_reset_password_code, noop)\n');
    expect(await app(["add", "noop", "--every", "1.5"], env)).toMatchObject({ code: 1, stderr: "app: intervalMinutes: must be a whole number of minutes\n" });
    expect(await app(["add", "noop", "--every", "often"], env)).toMatchObject({ code: 1, stderr: "app: intervalMinutes: must be a number\n" });
    expect(await app(["add", "noop", "--run-at", "tomorrow"], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^app: runAt: not a date/) });
    expect(await app(["add", "noop", "--cron", "0 9 * * *", "--tz", "Atlantis/Capital"], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^app: timezone: unknown time zone/) });
    expect(await app(["get", "999"], env)).toMatchObject({ code: 1, stderr: "app: job 999 does not exist\n" });
    expect((await store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(0);

    const wrongToken = await app(["list", "--admin-token", CRON_SECRET], { APP_URL: url });
    expect(wrongToken).toMatchObject({ code: 1, stderr: expect.stringContaining("app: missing or wrong admin token") });
  });

  test("an unreachable server exits 2 and says where it tried", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const result = await app(["list"], { APP_URL: url, ADMIN_TOKEN });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toStartWith(`app: cannot reach the server at ${url}: `);
  });

  test("URL and token come from flags, or on the same host from the secrets `app serve` generated", async () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {});
    const secrets = resolveSecrets(config, { generate: true });
    const { url } = server(secrets);

    expect((await app(["list", "--app-url", url, "--admin-token", secrets.adminToken])).code).toBe(0);
    const generated = await app(["types", "--json"], { APP_URL: url, DATABASE_URL: path.join(dataDir, "app.db") });
    expect(generated).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(generated.stdout).map((t: { type: string }) => t.type)).toContain("noop");

    const none = await app(["list"], { APP_URL: url, DATABASE_URL: path.join(tempDir(), "app.db") });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("ADMIN_TOKEN is not set");
  });
});
