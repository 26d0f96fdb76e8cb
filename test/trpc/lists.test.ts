import { describe, expect, test } from "bun:test";
import { z } from "zod";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { addJob } from "../support/jobs.ts";
import { failingJob, freshCaller, rejects, T0 } from "./support.ts";

const at = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;

describe("jobs.list", () => {
  test("pages through every job once, newest first, by cursor", async () => {
    const { caller } = freshCaller();
    for (let i = 1; i <= 7; i++) await caller.jobs.create({ name: `job-${i}`, jobType: "noop", runAt: at(T0 + i * MINUTE) });
    const seen: string[] = [];
    let cursor: number | null | undefined;
    let pages = 0;
    do {
      const page = await caller.jobs.list({ limit: 3, cursor });
      seen.push(...page.items.map((j) => j.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(["job-7", "job-6", "job-5", "job-4", "job-3", "job-2", "job-1"]);
    expect((await caller.jobs.list()).items).toHaveLength(7);
  });

  test("filters by active, state, jobType, userId, dueBefore and name", async () => {
    const { caller, store, runner } = freshCaller([failingJob]);
    const user = await store.insertUser({ email: "u@example.com", status: "active", passwordHash: null, registrationTokenHash: null }, T0);
    const soon = await caller.jobs.create({ name: "soon", jobType: "noop", runAt: at(T0 + MINUTE) });
    const later = await caller.jobs.create({ name: "later", jobType: "noop", runAt: at(T0 + 60 * MINUTE), userId: user.id });
    const paused = await caller.jobs.create({ name: "paused-report", jobType: "noop", intervalMinutes: 5, isActive: false });
    const dead = await caller.jobs.create({ name: "failing", runAt: at(T0), maxAttempts: 1 });
    await runner.runDueJobs();

    const names = async (filter: Parameters<typeof caller.jobs.list>[0]) => (await caller.jobs.list(filter)).items.map((j) => j.id);
    expect(await names({ active: true })).toEqual([later.id, soon.id]);
    expect(await names({ active: false })).toEqual([dead.id, paused.id]);
    expect(await names({ state: "paused" })).toEqual([paused.id]);
    expect(await names({ state: "dead" })).toEqual([dead.id]);
    expect(await names({ state: "active" })).toEqual([later.id, soon.id]);
    expect(await names({ jobType: "failing" })).toEqual([dead.id]);
    expect(await names({ userId: user.id })).toEqual([later.id]);
    expect(await names({ userId: null })).toEqual([dead.id, paused.id, soon.id]);
    expect(await names({ dueBefore: at(T0 + 2 * MINUTE) })).toEqual([soon.id]);
    expect(await names({ search: "REPORT" })).toEqual([paused.id]);
    await rejects(caller.jobs.list({ state: "sleeping" as never }), "BAD_REQUEST", "state: ");
    await rejects(caller.jobs.list({ dueBefore: "later" }), "BAD_REQUEST", "dueBefore: not a date");
    await rejects(caller.jobs.list({ limit: 0 }), "BAD_REQUEST", "limit: ");
  });
  test("a row nobody has scheduled yet keeps nextRunAt null (as stored); dueAt is when its seed columns make it due, and dueBefore finds it", async () => {
    const { caller, store } = freshCaller();
    const created = T0 - 10 * MINUTE;
    const scheduled = await caller.jobs.create({ name: "scheduled", jobType: "noop", runAt: at(T0 + MINUTE) });
    const once = await addJob(store, created, { name: "once-by-hand", runAt: new Date(T0 + 2 * MINUTE) });
    await store.updateJob(once.id, { nextRunAt: null }, created);
    const every = await addJob(store, created, { name: "every-by-hand", intervalMinutes: 5 });
    const daily = await addJob(store, created, { name: "cron-by-hand", cron: "0 9 * * *" });
    const bad = await addJob(store, created, { name: "bad-cron", cron: "every tuesday" });

    const items = Object.fromEntries((await caller.jobs.list()).items.map((j) => [j.id, { nextRunAt: j.nextRunAt, dueAt: j.dueAt }]));
    expect(items).toEqual({
      [scheduled.id]: { nextRunAt: at(T0 + MINUTE), dueAt: at(T0 + MINUTE) },
      [once.id]: { nextRunAt: null, dueAt: at(T0 + 2 * MINUTE) },
      [every.id]: { nextRunAt: null, dueAt: at(created) },
      [daily.id]: { nextRunAt: null, dueAt: "2026-01-06T09:00:00.000Z" },
      [bad.id]: { nextRunAt: null, dueAt: null },
    });
    expect(await caller.jobs.get({ id: once.id })).toMatchObject({ nextRunAt: null, dueAt: at(T0 + 2 * MINUTE) });
    const due = async (before: string) => (await caller.jobs.list({ dueBefore: before })).items.map((j) => j.id);
    expect(await due(at(T0 + 5 * MINUTE))).toEqual([every.id, once.id, scheduled.id]);
    expect(await due("2026-01-06T09:00:00.000Z")).toEqual([daily.id, every.id, once.id, scheduled.id]);
  });
});

describe("runs.list", () => {
  test("lists the history newest first, by job, status and time range, by cursor", async () => {
    const { caller, runner, clock } = freshCaller([failingJob]);
    const ok = await caller.jobs.create({ name: "noop", intervalMinutes: 10 });
    const bad = await caller.jobs.create({ name: "failing", intervalMinutes: 10 });
    for (let i = 0; i < 3; i++) {
      await runner.runDueJobs();
      clock.advance(10 * MINUTE);
    }
    const all = await caller.runs.list();
    expect(all.items).toHaveLength(6);
    expect(all.items.map((r) => r.id)).toEqual([...all.items.map((r) => r.id)].sort((a, b) => b - a));
    expect((await caller.runs.list({ jobId: ok.id })).items.every((r) => r.jobId === ok.id && r.status === "succeeded")).toBe(true);
    expect((await caller.runs.list({ status: "failed" })).items.map((r) => [r.jobId, r.error])).toEqual([[bad.id, "boom"], [bad.id, "boom"], [bad.id, "boom"]]);
    const middle = await caller.runs.list({ from: at(T0 + 10 * MINUTE), to: at(T0 + 20 * MINUTE) });
    expect(middle.items.map((r) => r.startedAt)).toEqual([at(T0 + 10 * MINUTE), at(T0 + 10 * MINUTE)]);
    const first = await caller.runs.list({ limit: 4 });
    const rest = await caller.runs.list({ limit: 4, cursor: first.nextCursor });
    expect(rest.nextCursor).toBeNull();
    expect([...first.items, ...rest.items].map((r) => r.id)).toEqual(all.items.map((r) => r.id));
    expect(all.items[0]).toMatchObject({ name: expect.any(String), attempt: expect.any(Number), runner: "test/1", durationMs: 0 });
    await rejects(caller.runs.list({ status: "ok" as never }), "BAD_REQUEST", "status: ");
    await rejects(caller.runs.list({ from: "yesterday" }), "BAD_REQUEST", "from: not a date");
  });
});

describe("jobTypes.list", () => {
  test("lists each type with its description and payload JSON schema", async () => {
    const webhook: CronJob<{ url: string }> = { type: "webhook", description: "Calls a URL.", payloadSchema: z.object({ url: z.url() }), async run() {} };
    const { caller } = freshCaller([webhook]);
    const types = await caller.jobTypes.list();
    expect(types.map((t) => t.type)).toEqual(["invalidate_pending_registration", "invalidate_reset_password_code", "noop", "webhook"]);
    expect(types.find((t) => t.type === "noop")).toEqual({ type: "noop", description: "Does nothing and succeeds.", payloadSchema: null });
    expect(types.find((t) => t.type === "webhook")?.payloadSchema).toMatchObject({
      type: "object", properties: { url: { type: "string", format: "uri" } }, required: ["url"],
    });
  });
});
