import path from "node:path";
import { beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { resolveSecrets } from "../../src/secrets.ts";
import { buildApp } from "../../src/server/app.ts";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { createClient } from "../../src/client.ts";
import { compiledApp } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { ADMIN_TOKEN, CRON_SECRET, freshDeps, T0 } from "../trpc/support.ts";

let binary: string;

beforeAll(async () => {
  binary = await compiledApp();
}, 120_000);

/** The real app listening on a free port, with `secrets`; stopped after the test. */
function server(secrets = { cronSecret: CRON_SECRET, adminToken: ADMIN_TOKEN }, jobs: CronJob<any>[] = []) {
  const env = freshDeps(jobs);
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
    expect(once.stdout).toMatch(/^schedule\s+once at \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC$/m);

    const table = await app(["list"], env);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s+NAME\s+TYPE\s+USER\s+STATE\s+SCHEDULE\s+NEXT RUN/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain("at 03:00, every day (Europe/Paris)");

    const listed = JSON.parse((await app(["list", "--json", "--type", "noop", "--search", "night"], env)).stdout);
    expect(listed).toEqual({ items: [expect.objectContaining({ id: job.id, name: "nightly" })], nextCursor: null });

    const shown = (await app(["get", String(job.id)], env)).stdout;
    expect(shown).toMatch(/^name\s+nightly$/m);
    expect(shown).toMatch(/^schedule\s+at 03:00, every day \(Europe\/Paris\)$/m);
    expect(shown).toMatch(/^cron\s+0 3 \* \* \* \(Europe\/Paris\)$/m);
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

  test("list and get show a row written by hand that no server has scheduled yet at the time its seed columns give; --due-before finds a cron one", async () => {
    const { url, store } = server();
    const env = { APP_URL: url, ADMIN_TOKEN };
    const created = T0 - 10 * 60_000;
    store.client.run(`INSERT INTO cron_jobs (name, job_type, cron, created_at, updated_at) VALUES ('nd5', 'noop', '* * * * *', ${created}, ${created})`);
    store.client.run(`INSERT INTO cron_jobs (name, job_type, run_at, created_at, updated_at) VALUES ('od-once', 'noop', ${T0 + 2 * 60_000}, ${created}, ${created})`);
    store.client.run("UPDATE cron_jobs SET next_run_at = NULL WHERE name = 'od-once'");

    const due = await app(["list", "--due-before", new Date(T0 + 5 * 60_000).toISOString()], env);
    expect(due.code).toBe(0);
    const rows = due.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^2\s+od-once\s+.*2026-01-05 12:02:00Z/);
    expect(rows[1]).toMatch(/^1\s+nd5\s+.*2026-01-05 11:50:00Z/);
    expect((await app(["list", "--due-before", new Date(T0 - 11 * 60_000).toISOString()], env)).stdout.trim().split("\n")).toHaveLength(1);
    expect((await app(["get", "1"], env)).stdout).toMatch(/^next run\s+2026-01-05 11:50:00Z \(from its seed columns: no server has scheduled it yet\)$/m);
  });

  test("preview: the schedule in words and its next start times in UTC and in its zone, as a table or --json; nothing saved", async () => {
    const { url, store, clock } = server();
    const env = { APP_URL: url, ADMIN_TOKEN };
    clock.set(Date.parse("2026-10-21T12:00:00Z")); // Paris leaves summer time on Sunday 2026-10-25

    const table = await app(["preview", "--cron", "0 9 * * 1-5", "--tz", "Europe/Paris", "--count", "4"], env);
    expect(table).toMatchObject({ code: 0, stderr: "" });
    expect(table.stdout.split("\n").map((line) => line.trimEnd())).toEqual([
      "at 09:00, Monday through Friday (Europe/Paris)",
      "#  UTC                   LOCAL (Europe/Paris)",
      "1  2026-10-22 07:00:00Z  2026-10-22 09:00:00+02:00",
      "2  2026-10-23 07:00:00Z  2026-10-23 09:00:00+02:00",
      "3  2026-10-26 08:00:00Z  2026-10-26 09:00:00+01:00",
      "4  2026-10-27 08:00:00Z  2026-10-27 09:00:00+01:00",
      "",
    ]);

    const json = await app(["preview", "--cron", "0 9 * * 1-5", "--tz", "Europe/Paris", "--count", "3", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual({
      description: "at 09:00, Monday through Friday (Europe/Paris)",
      timezone: "Europe/Paris",
      next: ["2026-10-22T07:00:00.000Z", "2026-10-23T07:00:00.000Z", "2026-10-26T08:00:00.000Z"],
      nextLocal: ["2026-10-22T09:00:00.000+02:00", "2026-10-23T09:00:00.000+02:00", "2026-10-26T09:00:00.000+01:00"],
    });

    const every = await app(["preview", "--every", "90", "--run-at", "2026-10-21T12:30:00Z", "--json"], env);
    expect(JSON.parse(every.stdout)).toMatchObject({
      description: "every 90 minutes",
      next: ["2026-10-21T12:30:00.000Z", "2026-10-21T14:00:00.000Z", "2026-10-21T15:30:00.000Z", "2026-10-21T17:00:00.000Z", "2026-10-21T18:30:00.000Z"],
    });
    const once = await app(["preview", "--run-at", "2026-12-01T09:00:00Z"], env);
    expect(once.stdout).toStartWith("once at 2026-12-01 09:00 UTC\n");

    expect(await app(["preview", "--cron", "61 9 * * *"], env)).toMatchObject({ code: 1, stdout: "", stderr: "app: cron: Invalid value for minute: 61\n" });
    expect(await app(["preview", "--cron", "0 9 * * *", "--tz", "Europe/Pariss"], env)).toMatchObject({ code: 1, stderr: 'app: timezone: unknown time zone "Europe/Pariss"\n' });
    expect(await app(["preview", "--cron", "* * * * *", "--count", "51"], env)).toMatchObject({ code: 1, stderr: "app: count: must be at most 50\n" });
    expect(await app(["preview"], env)).toMatchObject({ code: 1, stderr: "app: schedule: give runAt, intervalMinutes or cron\n" });
    expect((await store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(0);
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

  test("update switches the schedule: --cron on an interval job, --every on a cron job; --tz off a cron is refused by name", async () => {
    const { url, store } = server();
    const env = { APP_URL: url, ADMIN_TOKEN };
    const added = await app(["add", "digest", "--type", "noop", "--every", "5", "--json"], env);
    const id = String((JSON.parse(added.stdout) as { id: number }).id);

    const toCron = await app(["update", id, "--cron", "0 9 * * 1-5", "--tz", "Europe/Paris", "--json"], env);
    expect(toCron).toMatchObject({ code: 0, stderr: "" });
    expect(await store.getJob(Number(id))).toMatchObject({ intervalMinutes: null, cron: "0 9 * * 1-5", timezone: "Europe/Paris" });

    const toInterval = await app(["update", id, "--every", "15"], env);
    expect(toInterval).toMatchObject({ code: 0, stderr: "" });
    expect(await store.getJob(Number(id))).toMatchObject({ intervalMinutes: 15, cron: null, timezone: null });

    const zoned = await app(["update", id, "--tz", "Europe/Paris"], env);
    expect(zoned.code).toBe(1);
    expect(zoned.stderr).toContain("timezone: only a cron schedule has a time zone");
    const addZoned = await app(["add", "once", "--type", "noop", "--run-at", "+1h", "--tz", "UTC"], env);
    expect(addZoned.code).toBe(1);
    expect(addZoned.stderr).toContain("timezone: ");
    expect(await store.getJob(Number(id))).toMatchObject({ intervalMinutes: 15, timezone: null });
  });

  test("run shows the run's output after its result; runs --json carries it; cancel stops a running run, and a job not running is refused", async () => {
    const waiting = Promise.withResolvers<void>();
    const chatty: CronJob = {
      type: "chatty", description: "Says three lines.",
      async run({ log }) { log("fetched 3 feeds"); log("\u001b[31mred\u001b[0m is escaped"); log("done"); },
    };
    const waiter: CronJob = {
      type: "waiter", description: "Waits until aborted.",
      run: ({ signal, log }) => new Promise((_, reject) => {
        log("started");
        waiting.resolve();
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    };
    const { url } = server(undefined, [chatty, waiter]);
    const env = { APP_URL: url, ADMIN_TOKEN };
    const client = createClient({ url, token: ADMIN_TOKEN });
    const said = await client.jobs.create.mutate({ name: "chatty", jobType: "chatty", intervalMinutes: 60 });

    const run = await app(["run", String(said.id)], env);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^job ${said.id} \\(chatty\\): succeeded in \\d+ ms\n--- output ---\nfetched 3 feeds\n\\\\x1b\\[31mred\\\\x1b\\[0m is escaped\ndone\n$`));
    const runs = JSON.parse((await app(["runs", "--job", String(said.id), "--json"], env)).stdout);
    expect(runs.items).toEqual([expect.objectContaining({ status: "succeeded", output: "fetched 3 feeds\n\u001b[31mred\u001b[0m is escaped\ndone" })]);

    const slow = await client.jobs.create.mutate({ name: "slow", jobType: "waiter", intervalMinutes: 60 });
    const idle = await app(["cancel", String(slow.id)], env);
    expect(idle.code).toBe(1);
    expect(idle.stderr).toContain(`job ${slow.id} is not running`);
    const running = client.jobs.runNow.mutate({ id: slow.id });
    await waiting.promise;
    const cancelled = await app(["cancel", String(slow.id)], env);
    expect(cancelled).toMatchObject({ code: 0, stderr: "" });
    expect(cancelled.stdout).toContain(`the run of job ${slow.id} (slow) stops within a second`);
    expect(await running).toMatchObject({ status: "cancelled", error: "cancelled", output: "started" });
    const listed = JSON.parse((await app(["runs", "--status", "cancelled", "--json"], env)).stdout);
    expect(listed.items).toEqual([expect.objectContaining({ jobId: slow.id, status: "cancelled", error: "cancelled", output: "started" })]);
    expect((await app(["cancel", "999999"], env))).toMatchObject({ code: 1, stderr: expect.stringContaining("does not exist") });
  }, 30_000);
  test("schedule policy flags on add and update; pause-all and resume-all hold in the database", async () => {
    const { url, store, runner } = server();
    const env = { APP_URL: url, ADMIN_TOKEN };
    const added = await app(["add", "policed", "--type", "noop", "--every", "10", "--catch-up", "all", "--start-deadline", "60",
      "--jitter", "30", "--ends-at", "2030-01-01T00:00:00Z", "--max-runs", "5", "--json"], env);
    expect(added).toMatchObject({ code: 0, stderr: "" });
    const job = JSON.parse(added.stdout) as { id: number };
    expect(JSON.parse(added.stdout)).toMatchObject({ catchUp: "all", startDeadlineSeconds: 60, jitterSeconds: 30, endsAt: "2030-01-01T00:00:00.000Z", maxRuns: 5, runCount: 0 });
    expect(await store.getJob(job.id)).toMatchObject({ catchUp: "all", startDeadlineSeconds: 60, jitterSeconds: 30, maxRuns: 5 });
    const shown = (await app(["get", String(job.id)], env)).stdout;
    expect(shown).toMatch(/^catch-up\s+all$/m);
    expect(shown).toMatch(/^runs\s+0\/5$/m);

    const cleared = await app(["update", String(job.id), "--start-deadline", "none", "--max-runs", "none", "--ends-at", "none", "--jitter", "0", "--catch-up", "skip", "--json"], env);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ catchUp: "skip", startDeadlineSeconds: null, jitterSeconds: 0, endsAt: null, maxRuns: null });

    const refused = await app(["update", String(job.id), "--jitter", "601"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("jitterSeconds: must not be longer than the interval (600 s)");
    const badRuns = await app(["add", "zero", "--type", "noop", "--every", "5", "--max-runs", "0"], env);
    expect(badRuns.code).toBe(1);
    expect(badRuns.stderr).toContain("maxRuns: must be at least 1");
    expect(await store.findJob("zero", null)).toBeUndefined();

    const paused = await app(["pause-all"], env);
    expect(paused).toMatchObject({ code: 0, stderr: "" });
    expect(paused.stdout).toContain("all jobs paused");
    expect((await runner.runDueJobs()).paused).toBe(true);
    expect(JSON.parse((await app(["resume-all", "--json"], env)).stdout)).toEqual({ paused: false });
    expect((await runner.runDueJobs()).paused).toBe(false);
  });

  test("changes: the audit log as a table (time, job, action, actor, what changed; escaped) or --json, --job filters", async () => {
    const alice = "alice-token-0123456789abcdef";
    const { url, store, clock } = server({ cronSecret: CRON_SECRET, adminToken: `alice:${alice}` });
    const env = { APP_URL: url, ADMIN_TOKEN: `alice:${alice}` };
    const job = JSON.parse((await app(["add", "nightly", "--type", "noop", "--cron", "0 3 * * *", "--json"], env)).stdout) as { id: number };
    expect((await app(["update", String(job.id), "--timeout", "30"], env)).code).toBe(0);
    expect((await app(["pause", String(job.id)], env)).code).toBe(0);
    const other = JSON.parse((await app(["add", "other", "--type", "noop", "--every", "5", "--json"], env)).stdout) as { id: number };
    // A row with control characters where a user's text goes (the actor, a value) prints escaped, one line.
    await store.recordChange({ jobId: other.id, action: "update", actor: "mallory\u001b[2J (cli)", before: { name: "a\u009bb" }, after: { name: "x\ny" }, at: clock.now() });

    const table = await app(["changes"], env);
    expect(table).toMatchObject({ code: 0, stderr: "" });
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+JOB\s+ACTION\s+ACTOR\s+WHAT CHANGED$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toContain("mallory\\x1b[2J (cli)");
    expect(lines[1]).toContain('name: "a\\u009bb" → "x\\ny"');
    expect(table.stdout).not.toMatch(/[\u001b\u009b]/);
    expect(lines[2]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+${other.id}\\s+create\\s+alice \\(cli\\)\\s+name: "other", jobType: "noop", intervalMinutes: 5`));
    expect(lines[3]).toMatch(new RegExp(`\\s${job.id}\\s+pause\\s+alice \\(cli\\)\\s+isActive: true → false$`));
    expect(lines[4]).toMatch(new RegExp(`\\s${job.id}\\s+update\\s+alice \\(cli\\)\\s+timeoutSeconds: 60 → 30$`));
    expect(lines[5]).toMatch(new RegExp(`\\s${job.id}\\s+create\\s+alice \\(cli\\)\\s+name: "nightly", jobType: "noop", cron: "0 3 \\* \\* \\*"`));

    const json = await app(["changes", "--job", String(job.id), "--json"], env);
    expect(json).toMatchObject({ code: 0, stderr: "" });
    const page = JSON.parse(json.stdout) as { items: { jobId: number; action: string; actor: string; before: unknown; after: unknown; at: string }[]; nextCursor: number | null };
    expect(page.items.map((c) => [c.jobId, c.action, c.actor])).toEqual([[job.id, "pause", "alice (cli)"], [job.id, "update", "alice (cli)"], [job.id, "create", "alice (cli)"]]);
    expect(page.items[1]).toMatchObject({ before: { timeoutSeconds: 60 }, after: { timeoutSeconds: 30 } });
    expect(page.nextCursor).toBeNull();

    const first = await app(["changes", "--job", String(job.id), "--limit", "2"], env);
    expect(first.stdout.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^\\(more: app jobs changes --job ${job.id} --cursor \\d+\\)$`));
    expect(await app(["changes", "--job", "x"], env)).toMatchObject({ code: 2, stderr: expect.stringContaining("not a job id: x") });
  });
});
