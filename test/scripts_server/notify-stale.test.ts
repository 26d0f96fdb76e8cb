import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_LIMITS, type SourceName } from "../../src/watchdog/check.ts";
import { writeFileAtomic, type CronRunnerMarker } from "../../src/watchdog/files.ts";
import { runNotifyStale, type NotifyStaleOptions } from "../../scripts_server/notify-stale.ts";
import { ManualClock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import { backends, describeOn } from "../support/backends.ts";
import { freePort } from "../support/binary.ts";
import { freshRunner, freshStore, onCleanup, T0, tempDir } from "../support/db.ts";
import { foreignWriter } from "../support/foreign.ts";
import { addJob, testRegistry } from "../support/jobs.ts";
import { readHealth } from "../../src/reads/dashboard-reads.ts";
import { readJson, runCli, startReceiver } from "./support.ts";

const MIN = 60_000;
const ONLY_CRON_RUNNER = new Set<SourceName>(["tests", "overdue_jobs", "dead_jobs", "failing_jobs"]);

/** A cron-runner marker whose last answered tick was at `lastOkAt`. */
function writeMarker(dir: string, lastOkAt: number, extra: Partial<CronRunnerMarker> = {}): void {
  const marker: CronRunnerMarker = {
    version: 1, time: new Date(lastOkAt).toISOString(), outcome: "ok", exitCode: 0, url: "http://127.0.0.1:3000/api/cron/run", durationMs: 5,
    lastOkAt: new Date(lastOkAt).toISOString(), tick: { runId: "r", claimed: 0, succeeded: 0, failed: 0, timedOut: 0, durationMs: 1 }, error: null, ...extra,
  };
  writeFileAtomic(path.join(dir, "cron_runner.json"), JSON.stringify(marker));
}

/** The watchdog in this process, on a manual clock, its stderr captured. */
function watchdog(options: Partial<NotifyStaleOptions> = {}, databaseUrl?: string) {
  const dir = tempDir();
  const clock = new ManualClock(T0);
  const stderr: string[] = [];
  const config = loadConfig({ FRESHNESS_DIR: dir, DATABASE_URL: databaseUrl ?? path.join(dir, "none.db") }, {});
  const run = () => runNotifyStale(config, {
    limits: DEFAULT_LIMITS, remindEveryMs: 60 * MIN, stderr: true, skip: ONLY_CRON_RUNNER, verbose: false, ...options,
  }, { clock, stderr: (t) => stderr.push(t), stdout: () => {} });
  return { dir, clock, stderr, run };
}

const texts = (hook: ReturnType<typeof startReceiver>) => hook.received.map((r) => JSON.parse(r.body).text as string);

describe("app notify-stale", () => {
  test("fresh → stale: one notification; still stale: none; after the reminder interval: one reminder; recovered: one message", async () => {
    const hook = startReceiver();
    const { dir, clock, stderr, run } = watchdog({ webhook: `${hook.url}/hook` });
    writeMarker(dir, T0 - 30_000);
    expect(await run()).toBe(0);
    expect(hook.received).toHaveLength(0);

    clock.advance(10 * MIN); // the last tick is now 10.5 min old; max 5 min
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(1);
    expect(texts(hook)[0]).toContain("STALE: cron_runner");
    expect(texts(hook)[0]).toContain("last tick answered 11 min ago (max 5 min)");
    expect(JSON.parse(hook.received[0]!.body).events).toMatchObject([{ source: "cron_runner", change: "stale" }]);

    for (let i = 0; i < 3; i++) {
      clock.advance(MIN);
      expect(await run()).toBe(1);
    }
    expect(hook.received).toHaveLength(1);

    clock.advance(57 * MIN); // one hour after the notification
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(2);
    expect(texts(hook)[1]).toContain("still stale: cron_runner");
    clock.advance(MIN);
    expect(await run()).toBe(1);
    expect(hook.received).toHaveLength(2);

    writeMarker(dir, clock.now());
    expect(await run()).toBe(0);
    expect(texts(hook)).toHaveLength(3);
    expect(texts(hook)[2]).toContain("recovered: cron_runner");
    expect(texts(hook)[2]).toContain("was stale for 61 min");
    clock.advance(MIN);
    expect(await run()).toBe(0);
    expect(hook.received).toHaveLength(3);
    expect(stderr).toEqual(texts(hook).map((t) => `${t}\n`)); // the stderr channel got the same three messages
  });

  test("webhook down (refused, then 503): retried on each run, then delivered exactly once", async () => {
    const port = freePort();
    const { dir, clock, stderr, run } = watchdog({ webhook: `http://127.0.0.1:${port}/hook` });
    expect(await run()).toBe(0); // no marker yet, but the watchdog only just started watching
    clock.advance(6 * MIN);
    expect(await run()).toBe(1); // missing for longer than its max age
    expect(stderr.join("")).toContain("webhook notification failed, will retry on the next run");
    expect(readJson(path.join(dir, "notify_stale_state.json")).pending).toMatchObject([{ channel: "webhook", attempts: 1 }]);

    const hook = startReceiver(port);
    hook.state.failWith = 503;
    clock.advance(MIN);
    expect(await run()).toBe(1);
    expect(hook.received).toHaveLength(1);
    expect(readJson(path.join(dir, "notify_stale_state.json")).pending).toMatchObject([{ channel: "webhook", attempts: 2, lastError: expect.stringContaining("503") }]);

    hook.state.failWith = 0;
    clock.advance(MIN);
    expect(await run()).toBe(1);
    expect(hook.received).toHaveLength(2);
    expect(texts(hook)[1]).toContain("(delayed, written");
    expect(texts(hook)[1]).toContain("STALE: cron_runner");
    expect(readJson(path.join(dir, "notify_stale_state.json")).pending).toEqual([]);
    clock.advance(MIN);
    expect(await run()).toBe(1);
    expect(hook.received).toHaveLength(2);
    expect(stderr.filter((t) => t.includes("will retry"))).toHaveLength(1); // said once, not every minute
  });

  test("a webhook answering a redirect (307, then 302): not followed, a failed delivery naming its Location, retried next run", async () => {
    const target = startReceiver();
    let answer = { status: 307, location: `${target.url}/elsewhere-307` };
    const calls: string[] = [];
    const hook = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        calls.push(`${request.method} ${await request.text() ? "with body" : "empty"}`);
        return answer.status === 200 ? new Response("ok") : new Response(null, { status: answer.status, headers: { location: answer.location } });
      },
    });
    onCleanup(() => hook.stop(true));
    const { dir, clock, stderr, run } = watchdog({ webhook: `http://127.0.0.1:${hook.port}/hook` });
    writeMarker(dir, T0 - 10 * MIN);
    expect(await run()).toBe(1);
    expect(stderr.join("")).toContain(`webhook notification failed, will retry on the next run: webhook http://127.0.0.1:${hook.port}/… answered 307, a redirect to ${target.url}/elsewhere-307: not followed`);
    const state = () => readJson(path.join(dir, "notify_stale_state.json"));
    expect(state().pending).toMatchObject([{ channel: "webhook", attempts: 1 }]);

    answer = { status: 302, location: `${target.url}/elsewhere-302` };
    clock.advance(MIN);
    expect(await run()).toBe(1);
    expect(state().pending).toMatchObject([{ channel: "webhook", attempts: 2, lastError: expect.stringContaining(`answered 302, a redirect to ${target.url}/elsewhere-302`) }]);

    answer = { status: 200, location: "" };
    clock.advance(MIN);
    expect(await run()).toBe(1);
    expect(state().pending).toEqual([]);
    expect(calls).toEqual(["POST with body", "POST with body", "POST with body"]);
    expect(target.received).toEqual([]); // the redirect targets were never called
  });

  test("command channel: the message on stdin; a failing command is retried next run", async () => {
    const box = tempDir();
    const inbox = path.join(box, "inbox.txt");
    const { dir, clock, run } = watchdog({ command: `test -e ${box}/ready && cat >> ${inbox}`, stderr: false });
    writeMarker(dir, T0 - 10 * MIN);
    expect(await run()).toBe(1);
    expect(fs.existsSync(inbox)).toBe(false);
    fs.writeFileSync(path.join(box, "ready"), "");
    clock.advance(MIN);
    expect(await run()).toBe(1);
    clock.advance(MIN);
    expect(await run()).toBe(1);
    const received = fs.readFileSync(inbox, "utf8");
    expect(received.match(/STALE: cron_runner/g)).toHaveLength(1);
  });

  test("the database: active jobs overdue past the grace period and dead jobs are stale; running and slightly late ones are not", async () => {
    const { store, file } = freshStore();
    await addJob(store, T0, { name: "late-one", runAt: new Date(T0 - 10 * MIN) });
    await addJob(store, T0, { name: "slightly-late", runAt: new Date(T0 - MIN) });
    const running = await addJob(store, T0, { name: "long-runner", runAt: new Date(T0 - 20 * MIN) });
    expect(await store.claimOne(running.id, { runId: "tick-1", now: T0, leaseMarginMs: 30_000 })).toBeDefined();
    const dead = await addJob(store, T0, { name: "gave-up", runAt: new Date(T0 - 60 * MIN), maxAttempts: 1 });
    await store.updateJob(dead.id, { isActive: false, ended: "dead", attempts: 1, lastError: "boom: no such user" }, T0);

    const hook = startReceiver();
    const { run } = watchdog({ webhook: hook.url, skip: new Set(["cron_runner", "tests"]) }, file);
    expect(await run()).toBe(1);
    const [text] = texts(hook);
    expect(text).toContain("STALE: overdue_jobs, dead_jobs");
    expect(text).toContain(`#1 late-one (noop), due ${new Date(T0 - 10 * MIN).toISOString().slice(0, 16).replace("T", " ")} UTC`);
    expect(text).not.toContain("slightly-late");
    expect(text).not.toContain("long-runner");
    expect(text).toContain("gave-up (noop): boom: no such user");
  });

  test("failing_jobs: three failing runs in a row → one message naming the job and its error; a fourth → none; a success → one recovery message", async () => {
    const flaky = { failing: true };
    const registry = testRegistry({
      type: "flaky", description: "Fails while told to.",
      async run() {
        if (flaky.failing) throw new Error("upstream said 503");
      },
    });
    const { store, file, clock: runnerClock, runner } = freshRunner({}, registry);
    const job = await addJob(store, T0, { name: "hourly-report", jobType: "flaky", intervalMinutes: 1, runAt: new Date(T0) });
    await addJob(store, T0, { name: "one-time", jobType: "fail", runAt: new Date(T0), maxAttempts: 10 }); // fails too, but is not recurring
    const hook = startReceiver();
    const { clock, run } = watchdog({ webhook: hook.url, skip: new Set(["cron_runner", "tests", "overdue_jobs", "dead_jobs"]) }, file);
    const tick = async () => {
      const result = await runner.runDueJobs();
      expect(result.claimed).toBeGreaterThanOrEqual(1);
      return result;
    };
    const minute = () => {
      runnerClock.advance(MIN);
      clock.advance(MIN);
    };

    for (let i = 1; i <= 2; i++) {
      await tick();
      expect(await run()).toBe(0);
      minute();
    }
    expect(hook.received).toHaveLength(0);
    await tick(); // the third failure in a row
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(1);
    expect(texts(hook)[0]).toContain("STALE: failing_jobs");
    expect(texts(hook)[0]).toContain(`#${job.id} hourly-report (flaky) failed its last 3 runs in a row: upstream said 503`);
    expect(texts(hook)[0]).not.toContain("one-time");

    minute();
    await tick(); // the fourth
    expect(await run()).toBe(1);
    expect(hook.received).toHaveLength(1);

    minute();
    flaky.failing = false;
    await tick();
    expect(await run()).toBe(0);
    expect(texts(hook)).toHaveLength(2);
    expect(texts(hook)[1]).toContain("recovered: failing_jobs");
    expect(texts(hook)[1]).toContain(`#${job.id} hourly-report (flaky) succeeded at`);
    minute();
    await tick();
    expect(await run()).toBe(0);
    expect(hook.received).toHaveLength(2);

    // The health page reads the same source through the server.
    flaky.failing = true;
    for (let i = 0; i < 3; i++) {
      minute();
      await tick();
    }
    const health = await readHealth({ store, runner, clock: runnerClock, freshnessDir: tempDir() }, runnerClock.now());
    const failing = health.checks.find((c) => c.name === "failing_jobs")!;
    expect(failing).toMatchObject({ status: "stale", detail: expect.stringContaining("hourly-report (flaky): upstream said 503") });
    expect(health.checks.filter((c) => c.name === "cron_runner" || c.name === "tests").map((c) => c.status)).toEqual(["unknown", "unknown"]);
  });

  test("failing_jobs: while a job stays failing, reminders follow --remind-every; each job has its own message", async () => {
    const { store, file, runner } = freshRunner({}, testRegistry());
    await addJob(store, T0, { name: "first", jobType: "fail", intervalMinutes: 60, runAt: new Date(T0) });
    const hook = startReceiver();
    const { clock, run } = watchdog({ webhook: hook.url, skip: new Set(["cron_runner", "tests", "overdue_jobs", "dead_jobs"]), limits: { ...DEFAULT_LIMITS, failures: 1 } }, file);
    await runner.runDueJobs();
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(1);
    clock.advance(30 * MIN);
    await addJob(store, T0, { name: "second", jobType: "fail", intervalMinutes: 60, runAt: new Date(T0) });
    await runner.runDueJobs();
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(2); // the second job's own message, though the source was stale already
    expect(texts(hook)[1]).toContain("second (fail) failed its last 1 run");
    expect(texts(hook)[1]).not.toContain("first");
    clock.advance(29 * MIN);
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(2);
    clock.advance(2 * MIN); // an hour after the first message
    expect(await run()).toBe(1);
    expect(texts(hook)).toHaveLength(3);
    expect(texts(hook)[2]).toContain("still stale: failing_jobs");
    expect(texts(hook)[2]).toContain("first (fail)");
    expect(texts(hook)[2]).toContain("second (fail)");
  });

  test("--failures N sets how many runs in a row make a job failing", async () => {
    const { store, file, runner } = freshRunner({}, testRegistry());
    await addJob(store, T0, { name: "every-minute", jobType: "fail", intervalMinutes: 1, runAt: new Date(T0) });
    const hook = startReceiver();
    const only = new Set<SourceName>(["cron_runner", "tests", "overdue_jobs", "dead_jobs"]);
    const { run } = watchdog({ webhook: hook.url, skip: only, limits: { ...DEFAULT_LIMITS, failures: 1 } }, file);
    await runner.runDueJobs();
    expect(await run()).toBe(1);
    expect(texts(hook)[0]).toContain("failed its last 1 run in a row: boom");
    const cli = await runCli(["notify-stale", "--freshness-dir", tempDir(), "--database-url", file, "--skip", [...only].join(","), "--failures", "0"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe("app: --failures must be a whole number from 1 to 1000\n");
  });

  test("overdue_jobs: a row written by hand without next_run_at is judged by run_at, or created_at for an interval row (no server running)", async () => {
    const { store, file } = freshStore();
    const now = Date.now();
    // As an INSERT by hand leaves them: next_run_at NULL.
    await addJob(store, now - 10 * MIN, { name: "interval-by-hand", intervalMinutes: 5, nextRunAt: null });
    await addJob(store, now, { name: "once-by-hand", runAt: new Date(now - 10 * MIN), nextRunAt: null });
    await addJob(store, now, { name: "not-yet-late", runAt: new Date(now - MIN), nextRunAt: null });
    await addJob(store, now - 10 * MIN, { name: "cron-by-hand", cron: "0 0 1 1 *", nextRunAt: null }); // first slot months away
    // The insert trigger gives one-time and interval rows their due time at once; a cron row waits for a server.
    expect((await store.listJobs({ limit: 10, search: "cron-by-hand" }, now)).items[0]!.nextRunAt).toBeNull();
    const result = await runCli(["notify-stale", "--freshness-dir", tempDir(), "--database-url", file, "--skip", "cron_runner,tests,dead_jobs,failing_jobs", "--verbose"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("stale overdue_jobs");
    expect(result.stdout).toContain("interval-by-hand (noop), due ");
    expect(result.stdout).toContain("once-by-hand (noop), due ");
    expect(result.stdout).not.toContain("not-yet-late");
    expect(result.stdout).not.toContain("cron-by-hand");
    expect(result.stderr).toContain("STALE: overdue_jobs");
  });

  for (const backend of backends) {
    describeOn(backend, `on ${backend.name}`, () => {
      test("overdue_jobs: rows written by plain SQL (seed columns only) 10 min overdue, one-time, interval and cron, and one moved there by a hand UPDATE, are each counted and listed once (no server running)", async () => {
        const { databaseUrl } = await backend.open();
        const now = Date.now();
        const ago = now - 10 * MIN;
        // As a web app writes them, over a connection of its own: run_at for the one-time rows; the
        // interval and cron rows without one are due from their creation, and keep next_run_at NULL.
        // od-moved was due in an hour until a hand UPDATE of its run_at, which clears next_run_at.
        const web = foreignWriter(backend.name, databaseUrl);
        const at = web.time(ago);
        await web.run(`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes, cron, is_active, created_at) VALUES
          ('od-once', 'noop', ${at}, NULL, NULL, true, ${at}), ('od-every', 'noop', NULL, 5, NULL, true, ${at}),
          ('od-cron', 'noop', NULL, NULL, '* * * * *', true, ${at}), ('od-paused', 'noop', NULL, 5, NULL, false, ${at}),
          ('od-moved', 'noop', ${web.time(now + 60 * MIN)}, NULL, NULL, true, ${at})`);
        await web.run(`UPDATE cron_jobs SET run_at = ${at} WHERE name = 'od-moved'`);
        expect(await web.unscheduled()).toEqual(["od-every", "od-cron", "od-paused", "od-moved"]); // the insert trigger scheduled only od-once
        const result = await runCli(["notify-stale", "--freshness-dir", tempDir(), "--database-url", databaseUrl, "--skip", "cron_runner,tests,dead_jobs,failing_jobs", "--verbose", "--no-stderr"]);
        expect(result.code).toBe(1);
        expect(result.stdout).toContain("stale overdue_jobs");
        expect(result.stdout).toContain("4 active job(s) overdue");
        for (const name of ["od-once", "od-moved", "od-every", "od-cron"]) expect(result.stdout.split(`${name} (noop), due `)).toHaveLength(2);
        expect(result.stdout).not.toContain("od-paused");
        expect(await web.unscheduled()).toEqual(["od-every", "od-cron", "od-paused", "od-moved"]); // the watchdog only read them
      });
    });
  }

  test("an unreadable marker: exit 2 with its path in the message, nothing notified", async () => {
    const dir = tempDir();
    const { file } = freshStore();
    fs.writeFileSync(path.join(dir, "cron_runner.json"), '{"time": "2026-01-05T12:0');
    const hook = startReceiver();
    const result = await runCli(["notify-stale", "--freshness-dir", dir, "--database-url", file, "--webhook", hook.url, "--ping", `${hook.url}/ping`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`could not check: cannot read ${path.join(dir, "cron_runner.json")}: not valid JSON`);
    expect(hook.received).toHaveLength(0); // no message and no heartbeat: the watch itself failed
    expect(fs.existsSync(path.join(dir, "notify_stale_state.json"))).toBe(false);
  });

  test("a database that does not exist: exit 2 naming it", async () => {
    const missing = path.join(tempDir(), "nowhere", "app.db");
    const result = await runCli(["notify-stale", "--freshness-dir", tempDir(), "--database-url", missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the database ${missing} does not exist`);
    expect(fs.existsSync(missing)).toBe(false);
  });

  test("--ping sends a heartbeat after each completed check; exit 0 when all is fresh", async () => {
    const dir = tempDir();
    const { file } = freshStore();
    writeMarker(dir, Date.now());
    const hook = startReceiver();
    const result = await runCli(["notify-stale", "--freshness-dir", dir, "--database-url", file, "--skip", "tests", "--ping", `${hook.url}/ping/abc`, "--verbose"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("fresh cron_runner");
    expect(result.stdout).toContain("fresh overdue_jobs");
    expect(hook.received).toMatchObject([{ method: "GET", path: "/ping/abc" }]);
  });
});
