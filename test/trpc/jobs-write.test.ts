import { describe, expect, test } from "bun:test";
import { z } from "zod";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { failingJob, freshCaller, rejects, T0 } from "./support.ts";

const at = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;

const webhookJob: CronJob<{ url: string }> = {
  type: "webhook",
  description: "Calls a URL.",
  payloadSchema: z.object({ url: z.url() }),
  async run() {},
};

describe("jobs.create", () => {
  test("a one-time job is due at runAt, answered as a clean JSON row, and re-arms the timer", async () => {
    const { caller, pokes, store } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", runAt: at(T0 + MINUTE) });
    expect(job).toMatchObject({
      name: "noop", jobType: "noop", userId: null, state: "active", isActive: true,
      runAt: at(T0 + MINUTE), nextRunAt: at(T0 + MINUTE), intervalMinutes: null, cron: null,
      payload: null, timeoutSeconds: 60, maxAttempts: 5, attempts: 0, lastError: null, createdAt: at(T0),
    });
    expect(job.id).toBeGreaterThan(0);
    expect(pokes.count).toBe(1);
    expect((await store.getJob(job.id))?.nextRunAt?.getTime()).toBe(T0 + MINUTE);
  });

  test("an interval job is due at runAt if given, else now", async () => {
    const { caller } = freshCaller();
    expect((await caller.jobs.create({ name: "a", jobType: "noop", intervalMinutes: 5 })).nextRunAt).toBe(at(T0));
    expect((await caller.jobs.create({ name: "b", jobType: "noop", intervalMinutes: 5, runAt: at(T0 + 7 * MINUTE) })).nextRunAt).toBe(at(T0 + 7 * MINUTE));
  });

  test("a cron job is due at its first match after now (or after runAt) in its zone", async () => {
    const { caller } = freshCaller();
    // T0 is 07:00 in New York (EST, UTC-5): 09:00 there is 14:00 UTC the same day.
    const ny = await caller.jobs.create({ name: "a", jobType: "noop", cron: "0 9 * * *", timezone: "America/New_York" });
    expect(ny.nextRunAt).toBe("2026-01-05T14:00:00.000Z");
    const later = await caller.jobs.create({ name: "b", jobType: "noop", cron: "0 9 * * *", timezone: "America/New_York", runAt: "2026-01-10T00:00:00Z" });
    expect(later.nextRunAt).toBe("2026-01-10T14:00:00.000Z");
    const utc = await caller.jobs.create({ name: "c", jobType: "noop", cron: "7,37 * * * *" });
    expect(utc.nextRunAt).toBe(at(T0 + 7 * MINUTE));
  });

  test("jobType defaults to name; a payload is checked against the type's schema and stored as JSON", async () => {
    const { caller, store } = freshCaller([webhookJob]);
    const job = await caller.jobs.create({ name: "ping", jobType: "webhook", runAt: at(T0), payload: { url: "https://example.com/x" } });
    expect(job.payload).toEqual({ url: "https://example.com/x" });
    expect((await store.getJob(job.id))?.payload).toBe('{"url":"https://example.com/x"}');
    expect((await caller.jobs.create({ name: "webhook", runAt: at(T0), payload: { url: "https://a.example" } })).jobType).toBe("webhook");
  });

  describe("rejects a bad job with BAD_REQUEST naming the field", () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["unknown job type", { name: "nope", runAt: at(T0) }, /^jobType: unknown job type "nope"/],
      ["unknown explicit job type", { name: "x", jobType: "ghost", runAt: at(T0) }, /^jobType: unknown job type "ghost"/],
      ["no schedule", { name: "noop" }, /^schedule: give runAt, intervalMinutes or cron/],
      ["two recurring forms", { name: "noop", intervalMinutes: 5, cron: "* * * * *" }, /^schedule: .*not both/],
      ["interval below 1", { name: "noop", intervalMinutes: 0 }, /^intervalMinutes: must be at least 1/],
      ["negative interval", { name: "noop", intervalMinutes: -3 }, /^intervalMinutes: /],
      ["fractional interval", { name: "noop", intervalMinutes: 1.5 }, /^intervalMinutes: must be a whole number/],
      ["interval not a number", { name: "noop", intervalMinutes: "5" }, /^intervalMinutes: must be a number/],
      ["cron that does not parse", { name: "noop", cron: "61 * * * *" }, /^cron: /],
      ["cron with too few fields", { name: "noop", cron: "every day" }, /^cron: /],
      ["unknown zone", { name: "noop", cron: "0 9 * * *", timezone: "Mars/Olympus" }, /^timezone: unknown time zone "Mars\/Olympus"/],
      ["runAt not a date", { name: "noop", runAt: "tomorrow" }, /^runAt: not a date/],
      ["runAt without offset", { name: "noop", runAt: "2026-01-05 12:00" }, /^runAt: not a date/],
      ["runAt a number", { name: "noop", runAt: 12 }, /^runAt: not a date/],
      ["payload for a type that takes none", { name: "noop", runAt: at(T0), payload: { a: 1 } }, /^payload: job type "noop" takes no payload/],
      ["payload failing the type's schema", { name: "webhook", runAt: at(T0), payload: { url: "not a url" } }, /^payload\.url: /],
      ["payload missing for a type that needs one", { name: "webhook", runAt: at(T0) }, /^payload: /],
      ["empty name", { name: " ", runAt: at(T0) }, /^name: must not be empty/],
      ["timeout below 1", { name: "noop", runAt: at(T0), timeoutSeconds: 0 }, /^timeoutSeconds: /],
      ["maxAttempts below 1", { name: "noop", runAt: at(T0), maxAttempts: 0 }, /^maxAttempts: /],
      ["user id not an id", { name: "noop", runAt: at(T0), userId: 0 }, /^userId: /],
      ["unknown field", { name: "noop", runAt: at(T0), interval: 5 }, /^interval: unknown field/],
    ];
    for (const [what, input, message] of cases) {
      test(what, async () => {
        const { caller, store, pokes } = freshCaller([webhookJob]);
        await rejects(caller.jobs.create(input as never), "BAD_REQUEST", message);
        await rejects(caller.jobs.upsert(input as never), "BAD_REQUEST", message);
        expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(0);
        expect(pokes.count).toBe(0);
      });
    }
  });

  test("a duplicate (name, userId) is a CONFLICT, a NULL user counting as one value", async () => {
    const { caller, store } = freshCaller();
    const user = await store.insertUser({ email: "a@example.com", status: "active", passwordHash: null, registrationTokenHash: null }, T0);
    const first = await caller.jobs.create({ name: "noop", runAt: at(T0) });
    await rejects(caller.jobs.create({ name: "noop", runAt: at(T0 + MINUTE) }), "CONFLICT", `a job named "noop" already exists for no user (id ${first.id})`);
    await caller.jobs.create({ name: "noop", runAt: at(T0), userId: user.id });
    await rejects(caller.jobs.create({ name: "noop", intervalMinutes: 5, userId: user.id }), "CONFLICT", `for user ${user.id}`);
  });

  test("a user id that does not exist is rejected by the database's foreign key", async () => {
    const { caller } = freshCaller();
    await rejects(caller.jobs.create({ name: "noop", runAt: at(T0), userId: 42 }), "BAD_REQUEST");
  });
});

describe("jobs.upsert", () => {
  test("adds the job, then replaces the same (name, userId): same id, new schedule, failures cleared", async () => {
    const { caller, runner, clock, store } = freshCaller([failingJob]);
    const first = await caller.jobs.upsert({ name: "failing", runAt: at(T0) });
    await runner.runDueJobs();
    expect((await store.getJob(first.id))?.attempts).toBe(1);
    clock.advance(MINUTE);
    const second = await caller.jobs.upsert({ name: "failing", runAt: at(T0 + 10 * MINUTE), maxAttempts: 3 });
    expect(second).toMatchObject({ id: first.id, nextRunAt: at(T0 + 10 * MINUTE), attempts: 0, lastError: null, maxAttempts: 3 });
    expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(1);
  });

  test("an unchanged schedule keeps its slot (upserting at every deploy does not run the job again)", async () => {
    const { caller, clock } = freshCaller();
    const first = await caller.jobs.upsert({ name: "noop", intervalMinutes: 60 });
    clock.advance(10 * MINUTE);
    expect((await caller.jobs.upsert({ name: "noop", intervalMinutes: 60, timeoutSeconds: 5 })).nextRunAt).toBe(first.nextRunAt);
    expect((await caller.jobs.upsert({ name: "noop", intervalMinutes: 30 })).nextRunAt).toBe(at(T0 + 10 * MINUTE));
  });
});

describe("jobs.update", () => {
  test("a new schedule is recomputed at once and clears failures; other fields keep the slot", async () => {
    const { caller, clock, runner, pokes } = freshCaller([failingJob]);
    const job = await caller.jobs.create({ name: "failing", intervalMinutes: 5 });
    await runner.runDueJobs();
    clock.advance(MINUTE);
    const failed = await caller.jobs.get({ id: job.id });
    expect(failed).toMatchObject({ attempts: 1, lastError: "boom", nextRunAt: at(T0 + 5 * MINUTE) });

    const retimed = await caller.jobs.update({ id: job.id, timeoutSeconds: 5, payload: null });
    expect(retimed).toMatchObject({ timeoutSeconds: 5, nextRunAt: at(T0 + 5 * MINUTE), attempts: 1 });

    const rescheduled = await caller.jobs.update({ id: job.id, intervalMinutes: null, cron: "0 9 * * *", timezone: "Europe/Paris" });
    expect(rescheduled).toMatchObject({ intervalMinutes: null, cron: "0 9 * * *", timezone: "Europe/Paris", nextRunAt: "2026-01-06T08:00:00.000Z", attempts: 0, lastError: null });
    // create, the tick (its run moved the job), two updates: each published once.
    expect(pokes.count).toBe(4);
  });

  test("is checked as the whole job it makes, naming the field", async () => {
    const { caller } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", intervalMinutes: 5 });
    await rejects(caller.jobs.update({ id: job.id, cron: "0 9 * * *" }), "BAD_REQUEST", "schedule: give intervalMinutes or cron, not both");
    await rejects(caller.jobs.update({ id: job.id, intervalMinutes: 2.5 }), "BAD_REQUEST", "intervalMinutes: ");
    await rejects(caller.jobs.update({ id: job.id, intervalMinutes: null }), "BAD_REQUEST", "schedule: give runAt, intervalMinutes or cron");
    await rejects(caller.jobs.update({ id: job.id, jobType: "ghost" }), "BAD_REQUEST", 'jobType: unknown job type "ghost"');
    await rejects(caller.jobs.update({ id: job.id, runAt: "soon" }), "BAD_REQUEST", "runAt: not a date");
    await rejects(caller.jobs.update({ id: job.id, every: 5 } as never), "BAD_REQUEST", "every: unknown field");
    await rejects(caller.jobs.update({ id: job.id, intervalMinutes: null, cron: "0 9 * * *", timezone: "Nowhere/Land" }), "BAD_REQUEST", "timezone: ");
    expect(await caller.jobs.get({ id: job.id })).toMatchObject({ intervalMinutes: 5, cron: null });
  });

  test("renaming onto an existing (name, userId) is a CONFLICT; a missing job NOT_FOUND", async () => {
    const { caller } = freshCaller();
    await caller.jobs.create({ name: "noop", runAt: at(T0) });
    const other = await caller.jobs.create({ name: "other", jobType: "noop", runAt: at(T0) });
    await rejects(caller.jobs.update({ id: other.id, name: "noop" }), "CONFLICT");
    await rejects(caller.jobs.update({ id: 999, timeoutSeconds: 5 }), "NOT_FOUND", "job 999 does not exist");
  });
});
