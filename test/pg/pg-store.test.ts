import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { AppError } from "../../src/errors.ts";
import { defaultRegistry } from "../../src/jobs/registry.ts";
import { DbClock } from "../../src/store/db-clock.ts";
import { PgStore } from "../../src/store/pg-store.ts";
import * as q from "../../src/store/pg-statements.ts";
import { postgresAvailable } from "../support/backends.ts";
import { freshStore, T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { onCleanup } from "../support/cleanup.ts";
import { freshPgStore, pgClient } from "../support/pg.ts";
import { testRuntime, TEST_ACTOR } from "../support/runtime.ts";

const past = new Date(T0 - 1000);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
}

describe.skipIf(!postgresAvailable)("the PostgreSQL store, where it differs from SQLite inside", () => {
  test("a job row comes back in exactly the shape the SQLite store gives", async () => {
    const { store: pg } = await freshPgStore();
    const { store: lite } = freshStore();
    const values = { name: "shape", runAt: past, intervalMinutes: 5, payload: '{"a":1}', timeoutSeconds: 7, maxAttempts: 3 };
    const [a, b] = [await addJob(pg, T0, values), await addJob(lite, T0, values)];
    expect(a).toEqual(b);
    const [ca] = await pg.claimDue({ runId: "r1", now: T0, limit: 10, leaseMarginMs: 1000 });
    const [cb] = await lite.claimDue({ runId: "r1", now: T0, limit: 10, leaseMarginMs: 1000 });
    expect(ca).toEqual(cb!);
    expect(ca!.lockedUntil!.getTime()).toBe(T0 + 7000 + 1000);
    const typeOf = (r: object) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? "date" : v === null ? "null" : typeof v]));
    expect(typeOf((await pg.listJobs({ limit: 1 }, T0)).items[0]!)).toEqual(typeOf((await lite.listJobs({ limit: 1 }, T0)).items[0]!));
  });

  test("(name, user_id) is unique in the database itself, a NULL user counting as one value", async () => {
    const { store, url } = await freshPgStore();
    const sql = pgClient(url);
    await sql`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('dup', 'noop', now())`;
    const raw = await sql`INSERT INTO cron_jobs (name, job_type, run_at) VALUES ('dup', 'noop', now())`.then(() => "inserted", (e: { errno?: string }) => e.errno);
    expect(raw).toBe("23505");
    expect(await codeOf(addJob(store, T0, { name: "dup", runAt: past }))).toBe("CONFLICT");
    const upserted = await store.upsertJob({ ...(await store.findJob("dup", null))!, runAt: past, nextRunAt: past, timeoutSeconds: 9 }, T0);
    expect(upserted.timeoutSeconds).toBe(9);
    expect((await sql`SELECT count(*)::int AS n FROM cron_jobs`)[0].n).toBe(1);
  });

  test("check constraints refuse bad rows as INVALID_INPUT; an unknown user too", async () => {
    const { store } = await freshPgStore();
    const job = await addJob(store, T0, { name: "c", runAt: past });
    expect(await codeOf(store.updateJob(job.id, { intervalMinutes: 0 }, T0))).toBe("INVALID_INPUT");
    expect(await codeOf(store.updateJob(job.id, { timeoutSeconds: 0 }, T0))).toBe("INVALID_INPUT");
    expect(await codeOf(store.updateJob(job.id, { intervalMinutes: 5, cron: "* * * * *" }, T0))).toBe("INVALID_INPUT");
    expect(await codeOf(store.updateJob(job.id, { runAt: null }, T0))).toBe("INVALID_INPUT");
    expect(await codeOf(addJob(store, T0, { name: "u", runAt: past, userId: 999 }))).toBe("INVALID_INPUT");
    expect(await codeOf(store.insertUser({ email: "A@b.c", status: "pending", passwordHash: null, registrationTokenHash: null }, T0))).toBe("INVALID_INPUT");
  });

  test("a refused row is explained in the server's words, never with the statement and its parameters", async () => {
    const { store } = await freshPgStore();
    const messages: string[] = [];
    await addJob(store, T0, { name: "nul\u0000byte", runAt: past }).catch((err: Error) => messages.push(err.message));
    await addJob(store, T0, { name: "u", runAt: past, userId: 999 }).catch((err: Error) => messages.push(err.message));
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain("invalid byte sequence");
    expect(messages[1]).toContain("foreign key constraint");
    for (const message of messages) {
      expect(message).not.toContain("Failed query");
      expect(message).not.toContain("insert into");
      expect(message).not.toContain("params:");
    }
  });

  test("an INSERT naming only the seed's columns is a valid job that runs at the next tick", async () => {
    const { store, url } = await freshPgStore();
    const sql = pgClient(url);
    await sql`INSERT INTO cron_jobs (name, job_type, user_id, run_at, is_active) VALUES ('seed-once', 'noop', NULL, ${past}, true)`;
    await sql`INSERT INTO cron_jobs (name, job_type, user_id, interval_minutes, is_active) VALUES ('seed-every', 'noop', NULL, 15, true)`;
    const { runner } = testRuntime(store, { registry: defaultRegistry() });
    const tick = await runner.runDueJobs();
    expect(tick.results.map((r) => [r.name, r.status]).sort()).toEqual([["seed-every", "succeeded"], ["seed-once", "succeeded"]]);
    const rows = await sql`SELECT name, next_run_at, last_run_at FROM cron_jobs`;
    expect([...rows]).toEqual([{ name: "seed-every", next_run_at: new Date(T0 + 15 * 60_000), last_run_at: new Date(T0) }]);
  });

  test("a claim skips rows another claim holds instead of waiting for them (SKIP LOCKED)", async () => {
    const { store, url } = await freshPgStore();
    for (let i = 0; i < 20; i++) await addJob(store, T0, { name: `j${i}`, runAt: new Date(T0 - 20_000 + i) });
    const other = pgClient(url, 1);
    const { promise: locked, resolve: lockedNow } = Promise.withResolvers<void>();
    const { promise: release, resolve: letGo } = Promise.withResolvers<void>();
    const holder = other.begin(async (tx) => {
      await tx`SELECT id FROM cron_jobs ORDER BY next_run_at LIMIT 10 FOR UPDATE`;
      lockedNow();
      await release;
    });
    await locked;
    // The holder lets go only after the claim has answered: a claim that waited for its rows would never answer.
    const claimed = await store.claimDue({ runId: "r", now: T0, limit: 100, leaseMarginMs: 1000 });
    letGo();
    await holder;
    expect(claimed.map((j) => j.name)).toEqual(Array.from({ length: 10 }, (_, i) => `j${i + 10}`));
  });

  test("the store's own claim, unscheduled and next-wake statements can use the indexes", async () => {
    const { url } = await freshPgStore();
    const sql = pgClient(url, 1);
    const now = new Date(T0).toISOString();
    const plan = await sql.begin(async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      const explain = async (statement: string, params: unknown[]) =>
        (await tx.unsafe(`EXPLAIN ${statement}`, params)).map((r: Record<string, string>) => Object.values(r)[0]).join("\n");
      return {
        claim: await explain(q.CLAIM, [now, "r", 1000, 500, now]),
        unscheduled: await explain(q.LIST_UNSCHEDULED, [500]),
        nextWake: await explain(q.NEXT_WAKE, [now]),
        deadWithoutTime: await explain(q.DEAD_WITHOUT_TIME, ["e", now]),
      };
    });
    expect(plan.claim).toContain("cron_jobs_due_idx");
    expect(plan.unscheduled).toContain("cron_jobs_unscheduled_idx");
    expect(plan.nextWake).toContain("cron_jobs_due_idx");
    expect(plan.deadWithoutTime).toContain("cron_jobs_due_idx");
    for (const text of Object.values(plan)) expect(text).not.toContain("Seq Scan");
  });

  test("instances hear each other through their change feeds; an instance does not hear its own notices", async () => {
    const { store, url } = await freshPgStore();
    const other = await PgStore.open(url, { poolSize: 2 });
    const clock = new ManualClock(T0);
    const a = testRuntime(store, { clock, registry: defaultRegistry() });
    const b = testRuntime(other, { clock, registry: defaultRegistry() });
    onCleanup(() => b.close());
    await Promise.all([a.watch(), b.watch()]);
    let heard = 0;
    let echoed = 0;
    b.changes.subscribe(() => { heard++; });
    a.changes.subscribe(() => { echoed++; });
    const settle = async (expected: number) => {
      for (let i = 0; i < 30 && heard < expected; i++) await Bun.sleep(10);
      await Bun.sleep(30);
      return heard;
    };
    const job = await a.jobs.create({ name: "n", jobType: "noop", runAt: new Date(T0 + 60_000) }, TEST_ACTOR);
    expect(await settle(1)).toBe(1);
    await a.jobs.pause(job.id, TEST_ACTOR);
    expect(await settle(2)).toBe(2);
    await a.jobs.resume(job.id, TEST_ACTOR);
    expect(await settle(3)).toBe(3);
    // Claims and finishes inside the store announce nothing by themselves.
    const [claimed] = await store.claimDue({ runId: "r", now: T0 + 60_000, limit: 10, leaseMarginMs: 1000 });
    expect(await settle(4)).toBe(3);
    await store.release([claimed!.id], "r");
    expect(await settle(4)).toBe(3);
    await a.jobs.delete(job.id, TEST_ACTOR);
    expect(await settle(4)).toBe(4);
    // a heard its own four changes once each, locally: none came back through NOTIFY.
    expect(echoed).toBe(4);
    await b.close();
    await a.jobs.create({ name: "after", jobType: "noop", runAt: new Date(T0 + 60_000) }, TEST_ACTOR);
    expect(await settle(5)).toBe(4);
  });

  test("the database clock: a host whose own clock is five minutes behind still reads the database's time", async () => {
    const { store } = await freshPgStore();
    const clock = await DbClock.start(() => store.databaseNow(), { local: () => Date.now() - 5 * 60_000, intervalMs: 60_000 });
    onCleanup(() => clock.stop());
    expect(Math.abs(clock.offsetMs - 5 * 60_000)).toBeLessThan(100);
    const database = await store.databaseNow();
    expect(Math.abs(clock.now() - database)).toBeLessThan(100);
    let last = 0;
    for (let i = 0; i < 1000; i++) {
      const now = clock.now();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });

  test("a job whose own work deleted its row (the user, by cascade) finishes as succeeded with its history row", async () => {
    const { store } = await freshPgStore();
    const user = await store.insertUser({ email: "p@example.com", status: "pending", passwordHash: null, registrationTokenHash: null }, T0);
    const job = await addJob(store, T0, { name: "invalidate_pending_registration", jobType: "invalidate_pending_registration", userId: user.id, runAt: past });
    const { runner: pgRunner } = testRuntime(store, { registry: defaultRegistry() });
    const tick = await pgRunner.runDueJobs();
    expect(tick.results).toEqual([{ id: job.id, name: job.name, jobType: job.jobType, userId: user.id, status: "succeeded", durationMs: 0 }]);
    expect(await store.getUser(user.id)).toBeUndefined();
    expect((await store.listRuns({ limit: 5 })).items).toHaveLength(1);
  });
});
