// A time zone belongs to a cron schedule only (issue 15.13): elsewhere it is refused by name.
import { describe, expect, test } from "bun:test";
import { freshCaller, rejects, T0 } from "./support.ts";

const at = (ms: number) => new Date(ms).toISOString();

describe("timezone outside a cron schedule", () => {
  test("on an interval or one-time job: BAD_REQUEST naming timezone, nothing stored", async () => {
    const { caller, store } = freshCaller();
    await rejects(caller.jobs.create({ name: "noop", intervalMinutes: 5, timezone: "Europe/Paris" }), "BAD_REQUEST", "timezone: only a cron schedule has a time zone");
    await rejects(caller.jobs.create({ name: "noop", runAt: at(T0 + 60_000), timezone: "UTC" }), "BAD_REQUEST", "timezone: ");
    await rejects(caller.jobs.upsert({ name: "noop", intervalMinutes: 5, timezone: "UTC" }), "BAD_REQUEST", "timezone: ");
    expect((await store.listJobs({ limit: 10 }, T0)).items).toEqual([]);
    const job = await caller.jobs.create({ name: "noop", intervalMinutes: 5 });
    await rejects(caller.jobs.update({ id: job.id, timezone: "Europe/Paris" }), "BAD_REQUEST", "timezone: ");
    expect(await caller.jobs.get({ id: job.id })).toMatchObject({ intervalMinutes: 5, timezone: null });
  });

  test("a cron job switched to an interval drops its zone; naming a zone with it is refused", async () => {
    const { caller } = freshCaller();
    const job = await caller.jobs.create({ name: "noop", cron: "0 9 * * *", timezone: "Europe/Paris" });
    await rejects(caller.jobs.update({ id: job.id, cron: null, intervalMinutes: 5, timezone: "Europe/Paris" }), "BAD_REQUEST", "timezone: ");
    expect(await caller.jobs.update({ id: job.id, cron: null, intervalMinutes: 5 })).toMatchObject({ cron: null, intervalMinutes: 5, timezone: null });
  });
});
