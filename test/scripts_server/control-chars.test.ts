import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS, type SourceName } from "../../src/watchdog/check.ts";
import { runNotifyStale } from "../../scripts_server/notify-stale.ts";
import { ManualClock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import { escapeControl } from "../../src/text/escape.ts";
import { freshStore, T0, tempDir } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { SECRETS } from "../support/server.ts";
import { freshCaller, rejects } from "../trpc/support.ts";
import { runCli, startCronServer } from "./support.ts";

/** A name as a hand-written row may hold it: a newline, an ANSI colour (ESC), DEL and CSI (C1). */
const EVIL = "evil\n\u001b[31mred\u007f\u009b2J";
const EVIL_SHOWN = "evil\\n\\x1b[31mred\\x7f\\u009b2J";
/** Any raw control character (C0, DEL, C1) other than the newline that ends a line. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("escapeControl", () => {
  test("shows C0, DEL and C1 as escapes; leaves other text alone", () => {
    expect(escapeControl(EVIL)).toBe(EVIL_SHOWN);
    expect(escapeControl("tab\there\r\u0000")).toBe("tab\\there\\r\\x00");
    expect(escapeControl("plain ünïcode – \\x1b and 100%")).toBe("plain ünïcode – \\x1b and 100%");
  });
});

describe("job names with control characters", () => {
  test("refused on input (create, upsert, update) with BAD_REQUEST naming `name`; nothing changes", async () => {
    const { caller, store } = freshCaller();
    for (const name of ["a\nb", "clear\u001b[2J", "del\u007f", "csi\u009b", "tab\tname"]) {
      await rejects(caller.jobs.create({ name, jobType: "noop", intervalMinutes: 5 }), "BAD_REQUEST", /^name: must not contain control characters/);
      await rejects(caller.jobs.upsert({ name, jobType: "noop", intervalMinutes: 5 }), "BAD_REQUEST", /^name: must not contain control characters/);
    }
    const job = await caller.jobs.create({ name: "fine", jobType: "noop", intervalMinutes: 5 });
    await rejects(caller.jobs.update({ id: job.id, name: "x\ny" }), "BAD_REQUEST", /^name: must not contain control characters/);
    expect((await store.listJobs({ limit: 10 }, T0)).items.map((j) => j.name)).toEqual(["fine"]);
  });

  test("a row written by hand with such a name keeps working: get, list, pause, resume, update, retry, run", async () => {
    const { caller, store } = freshCaller();
    const row = await addJob(store, T0, { name: EVIL, intervalMinutes: 5, nextRunAt: new Date(T0) });
    expect((await caller.jobs.get({ id: row.id })).name).toBe(EVIL);
    expect((await caller.jobs.list({})).items.map((j) => j.name)).toEqual([EVIL]);
    expect((await caller.jobs.pause({ id: row.id })).state).toBe("paused");
    expect((await caller.jobs.resume({ id: row.id })).state).toBe("active");
    expect((await caller.jobs.update({ id: row.id, timeoutSeconds: 30 })).timeoutSeconds).toBe(30);
    expect((await caller.jobs.retry({ id: row.id })).state).toBe("active");
    expect((await caller.jobs.runNow({ id: row.id })).status).toBe("succeeded");
  });

  test("`app jobs get`, `list` and `run` print them escaped", async () => {
    const server = startCronServer();
    const row = await addJob(server.store, Date.now(), { name: EVIL, jobType: "fail", intervalMinutes: 5, nextRunAt: new Date(Date.now() + 60_000) });
    const env = { APP_URL: server.url, ADMIN_TOKEN: SECRETS.adminToken };
    const get = await runCli(["jobs", "get", String(row.id)], env);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(new RegExp(`^name\\s+${EVIL_SHOWN.replace(/[\\[\]]/g, "\\$&")}$`, "m"));
    const list = await runCli(["jobs", "list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split("\n")).toHaveLength(2); // the header and one row
    expect(list.stdout).toContain(EVIL_SHOWN);
    const run = await runCli(["jobs", "run", String(row.id)], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`job ${row.id} (${EVIL_SHOWN}): failed in ${/in (\d+) ms/.exec(run.stdout)?.[1]} ms: boom\n`);
    for (const out of [get.stdout, list.stdout, run.stdout]) expect(out).not.toMatch(RAW_CONTROL);
  });

  test("`app jobs add` with such a name: refused by the server naming `name` (exit 1), shown escaped, nothing created", async () => {
    const server = startCronServer();
    const result = await runCli(["jobs", "add", "nightly\n\u001b[2Jreport", "--type", "noop", "--every", "5"], { APP_URL: server.url, ADMIN_TOKEN: SECRETS.adminToken });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("app: name: must not contain control characters (newline, tab, ESC, DEL, C1)\n");
    expect((await server.store.listJobs({ limit: 10 }, Date.now())).items).toEqual([]);
  });

  test("`app cron-runner` prints a failing job's name escaped, on one line", async () => {
    const server = startCronServer();
    await addJob(server.store, Date.now(), { name: EVIL, jobType: "fail", runAt: new Date(Date.now() - 1_000) });
    const result = await runCli(["cron-runner", "--app-url", server.url, "--freshness-dir", tempDir()], { CRON_SECRET: SECRETS.cronSecret });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^cron-runner: job \\d+ "${EVIL_SHOWN.replace(/[\\[\]]/g, "\\$&")}" \\(fail\\) failed: boom\\n$`));
    expect(result.stderr + result.stdout).not.toMatch(RAW_CONTROL);
  });

  test("`app notify-stale` names a dead job escaped in its message and its verbose lines", async () => {
    const { store, file } = freshStore();
    const row = await addJob(store, T0, { name: EVIL, jobType: "fail", runAt: new Date(T0 - 60_000), isActive: false });
    await store.updateJob(row.id, { ended: "dead", attempts: 5, lastError: "line1\nline2\u001b]0;title\u0007" }, T0);
    const dir = tempDir();
    const stderr: string[] = [];
    const stdout: string[] = [];
    const config = loadConfig({ FRESHNESS_DIR: dir, DATABASE_URL: file }, {});
    const code = await runNotifyStale(config, {
      limits: DEFAULT_LIMITS, remindEveryMs: 3_600_000, stderr: true, skip: new Set<SourceName>(["cron_runner", "tests", "overdue_jobs"]), verbose: true,
    }, { clock: new ManualClock(T0), stderr: (t) => stderr.push(t), stdout: (t) => stdout.push(t) });
    expect(code).toBe(1);
    const message = stderr.join("");
    expect(message).toContain(`STALE dead_jobs: 1 dead job(s)`);
    expect(message).toContain(`#1 ${EVIL_SHOWN} (fail): line1\\nline2\\x1b]0;title\\x07`);
    expect(message).not.toMatch(RAW_CONTROL);
    expect(message.trim().split("\n")).toHaveLength(2); // headline and one line for the source
    expect(stdout.join("")).toContain(EVIL_SHOWN);
    expect(stdout.join("")).not.toMatch(RAW_CONTROL);
  });
});
