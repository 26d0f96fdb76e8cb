// The audit log (SPEC §2 `cron_job_changes`, issue 15.10): one row per change made through the
// control plane, with the actor (token name and client) and the fields the change altered.
import { expect, test } from "bun:test";
import type { ClientKind } from "../../src/actor.ts";
import { ManualClock } from "../../src/clock.ts";
import { defaultRegistry } from "../../src/jobs/registry.ts";
import { buildApp } from "../../src/server/app.ts";
import type { PgStore } from "../../src/store/pg-store.ts";
import type { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { Store } from "../../src/store/store.ts";
import { createControlPlane } from "../../src/trpc/context.ts";
import { createCaller } from "../../src/trpc/router.ts";
import { backends, describeOn, type BackendCase } from "../support/backends.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { testRuntime } from "../support/runtime.ts";
import { blockingJob, CRON_SECRET, failingJob, rejects, T0 } from "./support.ts";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdefgh";
const VIEWER = "viewer-token-0123456789abcdef";
const SECRETS = { cronSecret: CRON_SECRET, adminToken: `alice:${ALICE},bob:${BOB}`, viewerToken: `carol:${VIEWER}` };
const MINUTE = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function auditEnv(backend: BackendCase, options: { historyDays?: number } = {}) {
  const { store } = await backend.open();
  const blocking = blockingJob();
  const registry = defaultRegistry([blocking.job, failingJob], { jobSigningSecret: "job-signing-secret-0123456789abcdef" });
  const clock = new ManualClock(T0);
  const runtime = testRuntime(store, { clock, registry, runner: { abortGraceMs: 50, ...(options.historyDays ? { retentionMs: options.historyDays * DAY } : {}) } });
  const deps = { ...runtime, secrets: SECRETS, freshnessDir: tempDir() };
  const plane = createControlPlane(deps);
  const as = (token: string, client?: ClientKind) => createCaller({ plane, token, ...(client ? { client } : {}) });
  const viewer = as(VIEWER);
  /** Every audit row, newest first, as `jobs.changes` answers them. */
  const changes = async (jobId?: number) => (await viewer.jobs.changes({ limit: 500, ...(jobId ? { jobId } : {}) })).items;
  /** Runs `call`, which must write exactly one audit row; answers that row. */
  const oneRow = async (call: () => Promise<unknown>) => {
    const before = await changes();
    await call();
    const after = await changes();
    expect(after.length).toBe(before.length + 1);
    expect(after.slice(1)).toEqual(before);
    return after[0]!;
  };
  /** Runs `call`, which must write no audit row. */
  const noRow = async (call: () => Promise<unknown>) => {
    const before = await changes();
    await call();
    expect(await changes()).toEqual(before);
  };
  return { store, runtime, clock, deps, blocking, alice: as(ALICE, "cli"), bob: as(BOB, "dashboard"), viewer, changes, oneRow, noRow };
}

for (const backend of backends) {
  describeOn(backend, `audit log (${backend.name})`, () => {
    test("each action writes exactly one row: the actor, and before/after of the fields it changed", async () => {
      const { alice, bob, oneRow, noRow, blocking } = await auditEnv(backend);
      let id = 0;
      const created = await oneRow(async () => { id = (await alice.jobs.create({ name: "nightly", jobType: "http", cron: "0 3 * * *", payload: { url: "https://example.com/hook" } })).id; });
      expect(created).toMatchObject({
        jobId: id, action: "create", actor: "alice (cli)", before: null, at: iso(T0),
        after: { name: "nightly", jobType: "http", userId: null, cron: "0 3 * * *", timezone: null, runAt: null, intervalMinutes: null, payload: { url: "https://example.com/hook" }, isActive: true, timeoutSeconds: 60, maxAttempts: 5, nextRunAt: "2026-01-06T03:00:00.000Z" },
      });

      expect(await oneRow(() => bob.jobs.update({ id, timeoutSeconds: 30 }))).toMatchObject({
        jobId: id, action: "update", actor: "bob (dashboard)", before: { timeoutSeconds: 60 }, after: { timeoutSeconds: 30 },
      });
      const rescheduled = await oneRow(() => alice.jobs.update({ id, cron: "0 4 * * *" }));
      expect(rescheduled).toMatchObject({ action: "update", before: { cron: "0 3 * * *", nextRunAt: "2026-01-06T03:00:00.000Z" }, after: { cron: "0 4 * * *", nextRunAt: "2026-01-06T04:00:00.000Z" } });
      expect(Object.keys(rescheduled.after!).sort()).toEqual(["cron", "nextRunAt"]);
      await noRow(() => alice.jobs.update({ id, timeoutSeconds: 30 }));

      expect(await oneRow(() => alice.jobs.pause({ id }))).toEqual({
        id: expect.any(Number), jobId: id, action: "pause", actor: "alice (cli)", before: { isActive: true }, after: { isActive: false }, at: iso(T0),
      });
      await noRow(() => alice.jobs.pause({ id }));
      expect(await oneRow(() => bob.jobs.resume({ id }))).toMatchObject({ action: "resume", actor: "bob (dashboard)", before: { isActive: false }, after: { isActive: true } });
      await noRow(() => bob.jobs.resume({ id }));

      const ranNow = await oneRow(() => alice.jobs.runNow({ id }));
      const [run] = (await alice.runs.list({ jobId: id })).items;
      expect(ranNow).toMatchObject({ jobId: id, action: "run_now", actor: "alice (cli)", before: null, after: { runId: run!.runId } });

      // upsert: recorded as what it turned out to be.
      let upserted = 0;
      expect(await oneRow(async () => { upserted = (await bob.jobs.upsert({ name: "deploy", jobType: "noop", intervalMinutes: 5 })).id; }))
        .toMatchObject({ jobId: expect.any(Number), action: "create", actor: "bob (dashboard)", before: null, after: { name: "deploy", intervalMinutes: 5 } });
      expect(await oneRow(() => alice.jobs.upsert({ name: "deploy", jobType: "noop", intervalMinutes: 5, timeoutSeconds: 9 })))
        .toMatchObject({ jobId: upserted, action: "update", actor: "alice (cli)", before: { timeoutSeconds: 60 }, after: { timeoutSeconds: 9 } });
      // The same values again (a web app upserting its jobs at every deploy): nothing changed, no row.
      await noRow(() => alice.jobs.upsert({ name: "deploy", jobType: "noop", intervalMinutes: 5, timeoutSeconds: 9 }));

      // retry: a dead job's failures cleared.
      const failing = await alice.jobs.create({ name: "fails", jobType: "failing", runAt: iso(T0 + 60 * MINUTE), maxAttempts: 1 });
      expect((await alice.jobs.runNow({ id: failing.id })).status).toBe("failed");
      expect((await alice.jobs.get({ id: failing.id })).state).toBe("dead");
      expect(await oneRow(() => bob.jobs.retry({ id: failing.id }))).toMatchObject({
        jobId: failing.id, action: "retry", actor: "bob (dashboard)",
        before: { isActive: false, ended: "dead", attempts: 1, lastError: "boom" }, after: { isActive: true, ended: null, attempts: 0, lastError: null, nextRunAt: iso(T0) },
      });

      // cancel: the running run asked to stop.
      const slow = await alice.jobs.create({ name: "slow", jobType: "blocking", runAt: iso(T0 + 60 * MINUTE) });
      const running = alice.jobs.runNow({ id: slow.id });
      await blocking.started;
      expect(await oneRow(() => bob.jobs.cancel({ id: slow.id }))).toMatchObject({
        jobId: slow.id, action: "cancel", actor: "bob (dashboard)", before: { cancelRequestedAt: null }, after: { cancelRequestedAt: iso(T0) },
      });
      blocking.release();
      await running;

      // pause all and resume all: no job, the setting's change.
      expect(await oneRow(() => alice.jobs.pauseAll())).toMatchObject({ jobId: null, action: "pause_all", actor: "alice (cli)", before: { paused: false }, after: { paused: true } });
      await noRow(() => bob.jobs.pauseAll());
      expect(await oneRow(() => bob.jobs.resumeAll())).toMatchObject({ jobId: null, action: "resume_all", actor: "bob (dashboard)", before: { paused: true }, after: { paused: false } });
      await noRow(() => bob.jobs.resumeAll());

      // A jittered job is recorded as it was written: its id's offset applied in the same transaction.
      let jittered = { nextRunAt: null as string | null };
      const jitterRow = await oneRow(async () => { jittered = await alice.jobs.create({ name: "spread", jobType: "noop", cron: "0 5 * * *", jitterSeconds: 3_000 }); });
      expect(jittered.nextRunAt).not.toBe("2026-01-06T05:00:00.000Z");
      expect(jitterRow.after).toMatchObject({ jitterSeconds: 3_000, nextRunAt: jittered.nextRunAt });

      const deleted = await oneRow(() => alice.jobs.delete({ id }));
      expect(deleted).toMatchObject({ jobId: id, action: "delete", actor: "alice (cli)", after: null, before: { name: "nightly", cron: "0 4 * * *", timeoutSeconds: 30, payload: { url: "https://example.com/hook" } } });
    });

    test("a refused change writes no row: BAD_REQUEST, NOT_FOUND, CONFLICT, FORBIDDEN for a viewer", async () => {
      const { alice, viewer, noRow, blocking } = await auditEnv(backend);
      const job = await alice.jobs.create({ name: "nightly", jobType: "noop", cron: "0 3 * * *" });
      const dead = await alice.jobs.create({ name: "fails", jobType: "failing", runAt: iso(T0 + 60 * MINUTE), maxAttempts: 1 });
      await alice.jobs.runNow({ id: dead.id });
      const idle = await alice.jobs.create({ name: "idle", jobType: "noop", intervalMinutes: 5 });
      await noRow(async () => {
        await rejects(alice.jobs.create({ name: "bad", jobType: "noop", cron: "not a cron" }), "BAD_REQUEST");
        await rejects(alice.jobs.update({ id: job.id, cron: "99 * * * *" }), "BAD_REQUEST");
        await rejects(alice.jobs.upsert({ name: "bad", jobType: "nope", intervalMinutes: 5 }), "BAD_REQUEST");
        await rejects(alice.jobs.create({ name: "nightly", jobType: "noop", cron: "0 3 * * *" }), "CONFLICT");
        await rejects(alice.jobs.resume({ id: dead.id }), "CONFLICT");
        await rejects(alice.jobs.cancel({ id: idle.id }), "CONFLICT");
        await rejects(alice.jobs.delete({ id: 999_999 }), "NOT_FOUND");
        await rejects(alice.jobs.pause({ id: 999_999 }), "NOT_FOUND");
        await rejects(alice.jobs.runNow({ id: 999_999 }), "NOT_FOUND");
        for (const call of [
          viewer.jobs.create({ name: "v", jobType: "noop", intervalMinutes: 5 }), viewer.jobs.update({ id: job.id, timeoutSeconds: 5 }),
          viewer.jobs.pause({ id: job.id }), viewer.jobs.resume({ id: job.id }), viewer.jobs.delete({ id: job.id }), viewer.jobs.runNow({ id: job.id }),
          viewer.jobs.retry({ id: dead.id }), viewer.jobs.cancel({ id: job.id }), viewer.jobs.upsert({ name: "v", jobType: "noop", intervalMinutes: 5 }),
          viewer.jobs.pauseAll(), viewer.jobs.resumeAll(),
        ]) await rejects(call, "FORBIDDEN");
      });
      // A running job may not be updated, paused or retried, nor run again.
      const slow = await alice.jobs.create({ name: "slow", jobType: "blocking", runAt: iso(T0 + 60 * MINUTE) });
      const running = alice.jobs.runNow({ id: slow.id });
      await blocking.started;
      await noRow(async () => {
        await rejects(alice.jobs.update({ id: slow.id, timeoutSeconds: 5 }), "CONFLICT");
        await rejects(alice.jobs.pause({ id: slow.id }), "CONFLICT");
        await rejects(alice.jobs.retry({ id: slow.id }), "CONFLICT");
        await rejects(alice.jobs.runNow({ id: slow.id }), "CONFLICT");
      });
      blocking.release();
      await running;
    });

    test("jobs.changes: newest first, by pages, of one job (also once deleted); viewers may read it", async () => {
      const { alice, viewer, changes } = await auditEnv(backend);
      const a = await alice.jobs.create({ name: "a", jobType: "noop", intervalMinutes: 5 });
      const b = await alice.jobs.create({ name: "b", jobType: "noop", intervalMinutes: 5 });
      for (const t of [10, 20, 30]) await alice.jobs.update({ id: a.id, timeoutSeconds: t });
      await alice.jobs.pause({ id: b.id });
      await alice.jobs.delete({ id: a.id });
      const all = await changes();
      expect(all.map((c) => [c.jobId, c.action])).toEqual([
        [a.id, "delete"], [b.id, "pause"], [a.id, "update"], [a.id, "update"], [a.id, "update"], [b.id, "create"], [a.id, "create"],
      ]);
      expect(all.map((c) => c.id)).toEqual([...all.map((c) => c.id)].sort((x, y) => y - x));

      const pages: number[][] = [];
      let cursor: number | null | undefined;
      do {
        const page = await viewer.jobs.changes({ limit: 3, cursor });
        pages.push(page.items.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(all.map((c) => c.id));

      const ofA = await viewer.jobs.changes({ jobId: a.id });
      expect(ofA.items.map((c) => c.action)).toEqual(["delete", "update", "update", "update", "create"]);
      expect(ofA.items[1]).toMatchObject({ before: { timeoutSeconds: 20 }, after: { timeoutSeconds: 30 } });
      expect(ofA.nextCursor).toBeNull();
      expect((await viewer.jobs.changes()).items).toHaveLength(7);
      expect((await viewer.jobs.changes({ jobId: 999_999 })).items).toEqual([]);
      await rejects(viewer.jobs.changes({ limit: 0 }), "BAD_REQUEST");
      await rejects(viewer.jobs.changes({ jobId: -1 }), "BAD_REQUEST");
      await rejects(viewer.jobs.changes({ other: 1 } as never), "BAD_REQUEST");
    });

    test("upserts of one new (name, user) at once: one job, one create row, the other an update (or none when equal)", async () => {
      const { alice, bob, changes } = await auditEnv(backend);
      for (const [name, bobTimeout] of [["same", 60], ["different", 9]] as const) {
        const [a, b] = await Promise.all([
          alice.jobs.upsert({ name, jobType: "noop", intervalMinutes: 5 }),
          bob.jobs.upsert({ name, jobType: "noop", intervalMinutes: 5, timeoutSeconds: bobTimeout }),
        ]);
        expect(a.id).toBe(b.id);
        const rows = (await changes(a.id)).reverse();
        expect(rows[0]).toMatchObject({ action: "create" });
        if (bobTimeout === 60) expect(rows).toHaveLength(1);
        else expect(rows.map((r) => r.action)).toEqual(["create", "update"]);
      }
      expect((await alice.jobs.list()).items).toHaveLength(2);
    });

    test("the users domain's jobs are recorded as system (users), whoever registered", async () => {
      const { alice, changes } = await auditEnv(backend);
      const { user, registrationToken } = await alice.users.register({ email: "new@example.com" });
      const [created] = await changes();
      expect(created).toMatchObject({ action: "create", actor: "system (users)", after: { name: "invalidate_pending_registration", userId: user.id } });
      await alice.users.confirm({ id: user.id, token: registrationToken });
      expect((await changes())[0]).toMatchObject({ jobId: created!.jobId, action: "delete", actor: "system (users)" });
    });

    test("a change and its audit row commit together: when the row cannot be written, the change is undone", async () => {
      const { alice, store, changes } = await auditEnv(backend);
      const job = await alice.jobs.create({ name: "nightly", jobType: "noop", cron: "0 3 * * *" });
      await refuseAuditRows(store);
      for (const call of [
        () => alice.jobs.update({ id: job.id, timeoutSeconds: 5 }), () => alice.jobs.pause({ id: job.id }), () => alice.jobs.delete({ id: job.id }),
        () => alice.jobs.create({ name: "other", jobType: "noop", intervalMinutes: 5 }), () => alice.jobs.upsert({ name: "nightly", jobType: "noop", cron: "0 5 * * *" }),
        () => alice.jobs.upsert({ name: "new", jobType: "noop", cron: "0 5 * * *" }), () => alice.jobs.runNow({ id: job.id }),
      ]) await expect(call()).rejects.toThrow();
      expect(await alice.jobs.get({ id: job.id })).toMatchObject({ timeoutSeconds: 60, isActive: true, cron: "0 3 * * *", lockedBy: null });
      expect((await alice.jobs.list()).items.map((j) => j.name)).toEqual(["nightly"]);
      expect((await alice.runs.list()).items).toEqual([]);
      expect(await changes()).toHaveLength(1);
    });

    test("audit rows older than HISTORY_DAYS are pruned with the run history; younger ones stay", async () => {
      const { store, runtime, clock, changes } = await auditEnv(backend, { historyDays: 3 });
      for (const days of [1, 2.9, 3.1, 10]) {
        await store.recordChange({ jobId: 1, action: "pause", actor: `seed ${days}`, before: { isActive: true }, after: { isActive: false }, at: T0 - days * DAY });
      }
      await store.recordChange({ jobId: null, action: "pause_all", actor: "seed all", before: null, after: null, at: T0 - 5 * DAY });
      expect(await changes()).toHaveLength(5);
      await runtime.runner.runDueJobs();
      expect((await changes()).map((c) => c.actor)).toEqual(["seed 2.9", "seed 1"]);
      expect(clock.now()).toBe(T0);
    });

    test("over HTTP: a named token and X-Cronjobs-Client name the actor; the viewer's change is refused and not recorded", async () => {
      const { deps, changes } = await auditEnv(backend);
      const server = buildApp(deps).listen({ hostname: "127.0.0.1", port: 0 });
      onCleanup(async () => { await server.stop(true); });
      const url = `http://127.0.0.1:${server.server!.port}/trpc`;
      const post = (path: string, token: string, body: unknown, client?: string) => fetch(`${url}/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...(client ? { "x-cronjobs-client": client } : {}) },
        body: JSON.stringify(body),
      });
      const created = await post("jobs.create", ALICE, { name: "nightly", jobType: "noop", cron: "0 3 * * *" }, "cli");
      expect(created.status).toBe(200);
      const { result: { data: job } } = await created.json() as { result: { data: { id: number } } };
      expect((await post("jobs.pause", BOB, { id: job.id })).status).toBe(200);
      expect((await post("jobs.resume", BOB, { id: job.id }, "something-else")).status).toBe(200);
      expect((await post("jobs.delete", VIEWER, { id: job.id }, "cli")).status).toBe(403);

      const listed = await fetch(`${url}/jobs.changes?input=${encodeURIComponent(JSON.stringify({ jobId: job.id }))}`, { headers: { authorization: `Bearer ${VIEWER}` } });
      expect(listed.status).toBe(200);
      const { result: { data: page } } = await listed.json() as { result: { data: { items: { action: string; actor: string }[] } } };
      expect(page.items.map((c) => [c.action, c.actor])).toEqual([["resume", "bob (client)"], ["pause", "bob (client)"], ["create", "alice (cli)"]]);
      expect(await changes()).toHaveLength(3);
    });
  });
}

/** Makes every insert into cron_job_changes fail, as a full disk or a broken table would. */
async function refuseAuditRows(store: Store): Promise<void> {
  if (store.backend === "sqlite") {
    (store as SqliteStore).client.run(`CREATE TRIGGER refuse_audit BEFORE INSERT ON cron_job_changes BEGIN SELECT RAISE(ABORT, 'audit refused'); END`);
    return;
  }
  const sql = (store as PgStore).client;
  await sql.unsafe(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`);
  await sql.unsafe(`CREATE TRIGGER refuse_audit BEFORE INSERT ON cron_job_changes FOR EACH ROW EXECUTE FUNCTION refuse_audit()`);
}
