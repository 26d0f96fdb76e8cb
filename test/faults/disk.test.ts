import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManualClock } from "../../src/clock.ts";
import type { CronJob, JobContext } from "../../src/jobs/cron-job.ts";
import { type RunnerOptions } from "../../src/runner/runner.ts";
import { buildApp } from "../../src/server/app.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { compiledApp } from "../support/binary.ts";
import { atRunEnd } from "../support/cleanup.ts";
import { freshStore, onCleanup, T0, tempDir } from "../support/db.ts";
import { JournalJob, readJournal } from "../support/fault-jobs.ts";
import { hasStackTrace, SERVER_SECRETS_ENV, startServer, waitForTicks, waitUntil } from "../support/server-process.ts";
import { addJob, claimFullBatches, testRegistry } from "../support/jobs.ts";
import { cronRequest, SECRETS } from "../support/server.ts";
import { testRuntime } from "../support/runtime.ts";

const root = path.resolve(import.meta.dir, "../..");

/** While armed, fills the database as it runs: no page can be added after it (the disk filled mid-tick). */
class FillDiskJob implements CronJob {
  readonly type = "fill_disk";
  readonly description = "Caps the database at its current size.";
  armed = true;
  constructor(private readonly store: SqliteStore) {}
  async run(_: JobContext) {
    if (!this.armed) return;
    const client = this.store.client;
    client.run(`PRAGMA max_page_count = ${client.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count}`);
  }
}

function integrity(db: Database): string {
  return db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()!.integrity_check;
}

/** The real app over `store` with the journal and fill_disk job types, driven without a port. */
function journalApp(store: SqliteStore, options: Partial<RunnerOptions> = {}) {
  const journal = path.join(tempDir(), "journal.jsonl");
  const fill = new FillDiskJob(store);
  const registry = testRegistry(new JournalJob(journal), fill);
  const clock = new ManualClock(T0);
  const runtime = testRuntime(store, { clock, registry, runner: { abortGraceMs: 50, ...options } });
  const app = buildApp({ ...runtime, secrets: SECRETS, freshnessDir: "/nonexistent" });
  return { app, clock, journal, fill, runner: runtime.runner };
}

async function addJournalJobs(store: SqliteStore, count: number, { ms = 0, recurring = false } = {}) {
  const jobs = [];
  for (let i = 0; i < count; i++) {
    const due = new Date(T0 - 1000 + i);
    jobs.push(await addJob(store, T0, {
      name: `side-effect-${i}`, jobType: "journal", payload: JSON.stringify({ ms }), runAt: due,
      ...(recurring ? { intervalMinutes: 60, nextRunAt: due } : {}),
    }));
  }
  return jobs;
}

async function expect503(res: Response, reason: RegExp) {
  expect(res.status).toBe(503);
  const text = await res.text();
  expect(JSON.parse(text).error.message).toMatch(reason);
  expect(hasStackTrace(text)).toBe(false);
}

/**
 * The prefix that runs a command as the unprivileged user `nobody` (root ignores file modes), or
 * undefined where it cannot (not root, no setpriv): the test is then skipped with a notice.
 * Probed with a system binary: the checkout itself may be readable by its owner only.
 */
function asNobody(): string[] | undefined {
  const prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"];
  const probe = Bun.spawnSync([...prefix, "/bin/sh", "-c", "exit 0"], { stdout: "ignore", stderr: "ignore" });
  if (probe.exitCode === 0) return prefix;
  console.warn("\n*** read-only database test SKIPPED: cannot run a process as `nobody` here (needs root and setpriv) ***\n");
  return undefined;
}

/**
 * The compiled binary, copied into a folder `nobody` can read: the checkout (and bun in its
 * node_modules) may be readable by its owner only, as in a clone into a 0700 home.
 */
async function appForNobody(prefix: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-nobody-bin-"));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  const binary = path.join(dir, "app");
  fs.copyFileSync(await compiledApp(), binary);
  fs.chmodSync(binary, 0o755);
  const probe = Bun.spawnSync([...prefix, binary, "--version"], { stdout: "ignore", stderr: "pipe" });
  if (probe.exitCode !== 0) throw new Error(`nobody cannot run ${binary}: ${probe.stderr.toString()}`);
  return binary;
}

const TMPFS_MAGIC = 0x01021994;

/** Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN): checked once, mounting nothing for long. */
function canMount(): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-mount-probe-"));
  try {
    if (Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stderr: "ignore" }).exitCode !== 0) return false;
    Bun.spawnSync(["umount", dir]);
    return true;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A tmpfs of `size` mounted on a fresh dir for one test (call it inside the test), unmounted after it. */
function tinyDisk(size: string): string {
  const dir = tempDir("cronjobs-tmpfs-");
  if (Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir]).exitCode !== 0) throw new Error(`cannot mount a tmpfs on ${dir}`);
  const unmount = () => { Bun.spawnSync(["umount", "-l", dir]); };
  onCleanup(unmount);
  atRunEnd(unmount); // even if the test's cleanup did not run
  return dir;
}

/** Writes zeros to `file` until its disk has no byte left; refuses to fill anything but a tmpfs. */
function fillDisk(file: string): void {
  if (fs.statfsSync(path.dirname(file)).type !== TMPFS_MAGIC) throw new Error(`${path.dirname(file)} is not a tmpfs: refusing to fill it`);
  const fd = fs.openSync(file, "w");
  const block = Buffer.alloc(64 * 1024);
  try {
    // Bounded as well: never more than the tmpfs could hold.
    let written = 0;
    for (let size = block.length; size > 0 && written < 8 * 1024 * 1024;) {
      try {
        written += fs.writeSync(fd, block, 0, size);
      } catch {
        size >>= 1;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function runApp(args: string[], env: Record<string, string>, prefix: string[] = [], program = [process.execPath, path.join(root, "src/cli/index.ts")]) {
  const proc = Bun.spawn([...prefix, ...program, ...args], {
    cwd: env.CWD ?? tempDir(), env: { PATH: process.env.PATH ?? "", HOME: env.HOME ?? tempDir(), ...env }, stdout: "pipe", stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

describe("a full disk (SQLite)", () => {
  test("full before a tick: 503 with a clear error, nothing claimed and no side effect; once there is room, each job runs once", async () => {
    const { store } = freshStore();
    const { app, journal } = journalApp(store);
    const jobs = await addJournalJobs(store, 200);
    const pages = store.client.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
    store.client.run(`PRAGMA max_page_count = ${pages}`);

    await expect503(await app.handle(cronRequest()), /database or disk is full/);
    expect(readJournal(journal)).toEqual([]);
    for (const job of jobs) expect(await store.getJob(job.id)).toMatchObject({ attempts: 0, lockedBy: null, lockedUntil: null });
    expect((await store.listRuns({ limit: 10 })).items).toEqual([]);
    expect(integrity(store.client)).toBe("ok");

    store.client.run("PRAGMA max_page_count = 1073741823");
    const res = await app.handle(cronRequest());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ claimed: 200, succeeded: 200 });
    expect(readJournal(journal).filter((e) => e.event === "start")).toHaveLength(200);
    expect((await store.listRuns({ limit: 1000 })).items).toHaveLength(200);
    expect(integrity(store.client)).toBe("ok");
  });

  test("the disk fills while jobs run: 503, every side effect that ran has its claim on record and runs again to be recorded, the jobs not started are given back", async () => {
    const { store } = freshStore();
    const { app, journal, fill, clock, runner } = journalApp(store, { concurrency: 1 });
    await claimFullBatches(store, runner, T0); // the filler and the jobs after it in one batch
    const filler = await addJob(store, T0, { name: "filler", jobType: "fill_disk", runAt: new Date(T0 - 5000) });
    // Recurring: their finishes add history rows and free no page, so the history soon needs one.
    const jobs = await addJournalJobs(store, 60, { ms: 5, recurring: true });

    await expect503(await app.handle(cronRequest()), /database or disk is full/);
    expect(integrity(store.client)).toBe("ok");
    const recorded = new Set((await store.listRuns({ limit: 1000 })).items.map((r) => r.jobId));
    const ran = new Map(readJournal(journal).filter((e) => e.event === "start").map((e) => [e.jobId, e.runId]));
    let unrecorded = 0;
    let givenBack = 0;
    for (const job of jobs) {
      const row = (await store.getJob(job.id))!;
      if (recorded.has(job.id)) {
        // Recorded in the same transaction as its row's change.
        expect(row).toMatchObject({ lockedBy: null, attempts: 0 });
        expect(row.nextRunAt!.getTime()).toBeGreaterThan(clock.now());
      } else if (ran.has(job.id)) {
        // Its side effect ran and its history row could not be written: the claim that preceded
        // it is on record (attempt counted, lease held), so the job is due again when the lease ends.
        unrecorded++;
        expect(row).toMatchObject({ lockedBy: ran.get(job.id), attempts: 1, isActive: true });
      } else {
        givenBack++;
        expect(row).toMatchObject({ lockedBy: null, attempts: 0, isActive: true });
      }
    }
    expect(unrecorded).toBeGreaterThan(0);
    expect(givenBack).toBeGreaterThan(0);

    // Room again, and the leases of the unrecorded runs pass: every job's run is recorded, once.
    fill.armed = false;
    store.client.run("PRAGMA max_page_count = 1073741823");
    clock.advance(60_000 + 30_000 + 1);
    expect((await app.handle(cronRequest())).status).toBe(200);
    const runs = (await store.listRuns({ limit: 1000 })).items;
    for (const job of jobs) expect(runs.filter((r) => r.jobId === job.id).map((r) => r.status)).toEqual(["succeeded"]);
    expect(runs.some((r) => r.jobId === filler.id)).toBe(true);
    for (const job of jobs) expect((await store.getJob(job.id))!.lockedBy).toBeNull();
    const starts = readJournal(journal).filter((e) => e.event === "start");
    expect(starts).toHaveLength(jobs.length + unrecorded); // at least once: the unrecorded ones ran twice
    expect(integrity(store.client)).toBe("ok");
  });

  const mountable = canMount();
  if (!mountable) {
    console.warn("\n*** real full-disk test SKIPPED (counted as skipped): this machine cannot mount a tmpfs (it needs root with CAP_SYS_ADMIN); "
      + "the capped-database tests above still run ***\n");
  }
  test.skipIf(!mountable)("a real server on a disk that fills up: 503, no side effect, cron-runner --local exits 2, notify-stale reports the overdue jobs; after space is freed everything runs once", async () => {
    const disk = tinyDisk("4m");
    const file = path.join(disk, "app.db");
    const journal = path.join(tempDir(), "journal.jsonl");
    const setup = SqliteStore.open(file);
    onCleanup(() => setup.close());
    const server = await startServer({ databaseUrl: file, entry: "test-jobs", testJobs: { journal, graceMs: 1_000 } });
    await waitForTicks(server.url); // start-up tick over
    // The server sees rows written by another process within milliseconds: they come due only
    // once the disk is full, so that neither its own timer nor the tick below can run them.
    const now = Date.now();
    const dueAt = now + 5_000;
    for (let i = 0; i < 100; i++) {
      await addJob(setup, now, { name: `side-effect-${i}`, jobType: "journal", runAt: new Date(dueAt) });
    }
    // An empty WAL, then a disk without a byte left: the next write cannot grow any file.
    setup.client.run("PRAGMA wal_checkpoint(TRUNCATE)");
    const filler = path.join(disk, "filler");
    fillDisk(filler);
    expect(Date.now()).toBeLessThan(dueAt); // the disk was full before anything came due
    await Bun.sleep(dueAt - Date.now() + 10);

    const res = await fetch(`${server.url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${SECRETS.cronSecret}` } });
    await expect503(res, /database or disk is full/);
    expect(readJournal(journal)).toEqual([]);

    const env = { DATABASE_URL: file, FRESHNESS_DIR: path.join(tempDir(), "freshness"), ...SERVER_SECRETS_ENV };
    const local = await runApp(["cron-runner", "--local"], env);
    expect(local.code).toBe(2);
    expect(local.stderr.trim().split("\n")).toHaveLength(1);
    expect(local.stderr).toContain("database or disk is full");
    const watchdog = await runApp(["notify-stale", "--overdue-grace", "0", "--skip", "cron_runner,tests"], env);
    expect(watchdog.code).toBe(1);
    expect(watchdog.stderr).toContain("overdue");
    expect(readJournal(journal)).toEqual([]);

    fs.rmSync(filler);
    const retry = await fetch(`${server.url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${SECRETS.cronSecret}` } });
    expect(retry.status).toBe(200);
    // Space is back: every job runs once, through this tick or the server's own timer retrying.
    expect((await retry.json() as { claimed: number }).claimed).toBeLessThanOrEqual(100);
    expect(await waitUntil(async () => (await setup.listRuns({ limit: 1000 })).items.length >= 100, 20_000)).toBe(true);
    const runs = (await setup.listRuns({ limit: 1000 })).items;
    expect(runs).toHaveLength(100);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(100);
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
    expect(readJournal(journal).filter((e) => e.event === "start")).toHaveLength(100);
    expect(integrity(setup.client)).toBe("ok");
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 60_000);
});

describe("a read-only database (SQLite)", () => {
  test("a read-only connection: 503 with a clear error, no side effect, the file intact", async () => {
    const { store, file } = freshStore();
    const jobs = await addJournalJobs(store, 20);
    const readonly = SqliteStore.open(file, { readonly: true, migrate: false });
    onCleanup(() => readonly.close());
    const { app, journal } = journalApp(readonly);

    await expect503(await app.handle(cronRequest()), /read-only/);
    expect(readJournal(journal)).toEqual([]);
    for (const job of jobs) expect(await store.getJob(job.id)).toMatchObject({ attempts: 0, lockedBy: null });
    expect(integrity(store.client)).toBe("ok");
  });

  const nobody = asNobody();
  test.skipIf(nobody === undefined)("a database file the service user cannot write: ticks answer 503, cron-runner --local exits 2, notify-stale reports the overdue job; the file is unchanged", async () => {
    const dir = tempDir();
    const data = path.join(dir, "data");
    const file = path.join(data, "app.db");
    const store = SqliteStore.open(file);
    await addJob(store, Date.now(), { name: "due", runAt: new Date(Date.now() - 60_000) });
    store.client.run("PRAGMA wal_checkpoint(TRUNCATE)");
    await store.close();
    for (const f of fs.readdirSync(data)) fs.chmodSync(path.join(data, f), 0o444);
    fs.chmodSync(data, 0o555);
    fs.chmodSync(dir, 0o755);
    onCleanup(() => fs.chmodSync(data, 0o755));
    const before = fs.readFileSync(file);
    const freshness = path.join(dir, "freshness");
    fs.mkdirSync(freshness);
    fs.chmodSync(freshness, 0o777);
    const home = path.join(dir, "home"); // bun's cache of the unprivileged user, removed with the rest
    fs.mkdirSync(home);
    fs.chmodSync(home, 0o777);
    // Every secret given: the data folder is read-only, nothing can be generated there.
    const secrets = SERVER_SECRETS_ENV;
    const env = { DATABASE_URL: file, FRESHNESS_DIR: freshness, ...secrets, CWD: dir, HOME: home };

    const app = [await appForNobody(nobody!)];
    const server = await startServer({ databaseUrl: file, entry: "app", prefix: nobody, program: app, env: { HOME: home, FRESHNESS_DIR: freshness, ...secrets } });
    const res = await fetch(`${server.url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${SECRETS.cronSecret}` } });
    await expect503(res, /read-only/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200); // reads still work
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);

    const local = await runApp(["cron-runner", "--local"], env, nobody, app);
    expect(local.code).toBe(2);
    expect(local.stderr.trim().split("\n")).toHaveLength(1);
    expect(local.stderr).toContain("read-only");
    const watchdog = await runApp(["notify-stale", "--overdue-grace", "0", "--skip", "cron_runner,tests"], env, nobody, app);
    expect(watchdog.code).toBe(1);
    expect(watchdog.stderr).toContain("overdue");

    expect(fs.readFileSync(file).equals(before)).toBe(true);
    const check = new Database(file, { readonly: true });
    expect(integrity(check)).toBe("ok");
    expect(check.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_job_runs").get()!.n).toBe(0);
    check.close();
  }, 180_000);
});
