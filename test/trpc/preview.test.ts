import { describe, expect, test } from "bun:test";
import { buildApp } from "../../src/server/app.ts";
import { ADMIN_TOKEN, freshCaller, freshDeps, rejects, T0 } from "./support.ts";

describe("jobs.preview", () => {
  test("0 9 * * 1-5 in Europe/Paris across the end of summer time: weekdays at 07:00Z before it, 08:00Z after it", async () => {
    const { caller, clock, store } = freshCaller();
    clock.set(Date.parse("2026-10-21T12:00:00Z"));
    const preview = await caller.jobs.preview({ cron: "0 9 * * 1-5", timezone: "Europe/Paris", count: 6 });
    expect(preview).toEqual({
      description: "at 09:00, Monday through Friday (Europe/Paris)",
      timezone: "Europe/Paris",
      next: [
        "2026-10-22T07:00:00.000Z", "2026-10-23T07:00:00.000Z",
        "2026-10-26T08:00:00.000Z", "2026-10-27T08:00:00.000Z", "2026-10-28T08:00:00.000Z", "2026-10-29T08:00:00.000Z",
      ],
      nextLocal: [
        "2026-10-22T09:00:00.000+02:00", "2026-10-23T09:00:00.000+02:00",
        "2026-10-26T09:00:00.000+01:00", "2026-10-27T09:00:00.000+01:00", "2026-10-28T09:00:00.000+01:00", "2026-10-29T09:00:00.000+01:00",
      ],
    });
    expect(store.client.query("SELECT count(*) AS n FROM cron_jobs").get()).toEqual({ n: 0 }); // nothing saved
  });

  test("five start times by default; intervals and one-time jobs too", async () => {
    const { caller } = freshCaller();
    const every = await caller.jobs.preview({ intervalMinutes: 90 });
    expect(every.description).toBe("every 90 minutes");
    expect(every.next).toEqual([0, 1, 2, 3, 4].map((i) => new Date(T0 + i * 90 * 60_000).toISOString()));
    expect(await caller.jobs.preview({ runAt: "2026-12-01T09:00:00Z" })).toMatchObject({
      description: "once at 2026-12-01 09:00 UTC", next: ["2026-12-01T09:00:00.000Z"],
    });
    expect((await caller.jobs.preview({ cron: "*/5 * * * *", count: 50 })).next).toHaveLength(50);
  });

  test.each([
    ["a bad expression", { cron: "61 * * * *" }, /^cron: /],
    ["an expression that never matches", { cron: "0 0 30 2 *" }, /^cron: .*never matches/],
    ["an unknown zone", { cron: "0 9 * * *", timezone: "Europe/Pariss" }, /^timezone: unknown time zone "Europe\/Pariss"$/],
    ["an unknown zone for an interval", { intervalMinutes: 5, timezone: "Mars/Base" }, /^timezone: /],
    ["no schedule", {}, /^schedule: /],
    ["interval and cron", { intervalMinutes: 5, cron: "* * * * *" }, /^schedule: /],
    ["an interval of 0", { intervalMinutes: 0 }, /^intervalMinutes: must be at least 1$/],
    ["a count over 50", { cron: "* * * * *", count: 51 }, /^count: must be at most 50$/],
    ["a count of 0", { cron: "* * * * *", count: 0 }, /^count: must be at least 1$/],
    ["an unknown field", { cron: "* * * * *", name: "x" }, /^name: unknown field$/],
    ["a runAt that is not a date", { runAt: "tomorrow" }, /^runAt: not a date/],
  ])("%s: BAD_REQUEST naming the field", async (_, input, message) => {
    const { caller } = freshCaller();
    await rejects(caller.jobs.preview(input as never), "BAD_REQUEST", message);
  });

  test("over HTTP (a GET query): the answer as JSON; a bad expression is a 400 whose data names cron", async () => {
    const app = buildApp(freshDeps().deps);
    const get = async (input: unknown) => {
      const response = await app.handle(new Request(`http://localhost/trpc/jobs.preview?input=${encodeURIComponent(JSON.stringify(input))}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }));
      return { status: response.status, body: (await response.json()) as { result?: { data: unknown }; error?: { message: string; data: Record<string, unknown> } } };
    };
    const ok = await get({ cron: "0 9 * * 1-5", timezone: "Europe/Paris", count: 1 });
    expect(ok).toEqual({ status: 200, body: { result: { data: {
      description: "at 09:00, Monday through Friday (Europe/Paris)", timezone: "Europe/Paris",
      next: ["2026-01-06T08:00:00.000Z"], nextLocal: ["2026-01-06T09:00:00.000+01:00"],
    } } } });
    const bad = await get({ cron: "0 9 * * 8" });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.message).toMatch(/^cron: /);
    expect(bad.body.error!.data).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { cron: [expect.any(String)] } });
    expect((await get({ cron: "0 9 * * *", timezone: "Nowhere/Land" })).body.error!.data.fieldErrors).toEqual({ timezone: ['unknown time zone "Nowhere/Land"'] });
  });

  test("needs the admin token", async () => {
    const { as } = freshCaller();
    await rejects(as("wrong").jobs.preview({ cron: "* * * * *" }), "UNAUTHORIZED");
  });
});

describe("scheduleText on job items", () => {
  test("every job item carries its schedule in words: list, get, create, update", async () => {
    const { caller } = freshCaller();
    const paris = await caller.jobs.create({ name: "report", jobType: "noop", cron: "0 9 * * 1-5", timezone: "Europe/Paris" });
    expect(paris.scheduleText).toBe("at 09:00, Monday through Friday (Europe/Paris)");
    await caller.jobs.create({ name: "poll", jobType: "noop", intervalMinutes: 5 });
    await caller.jobs.create({ name: "once", jobType: "noop", runAt: "2026-12-01T09:00:00Z" });
    const { items } = await caller.jobs.list();
    expect(items.map((j) => [j.name, j.scheduleText])).toEqual([
      ["once", "once at 2026-12-01 09:00 UTC"], ["poll", "every 5 minutes"], ["report", "at 09:00, Monday through Friday (Europe/Paris)"],
    ]);
    expect((await caller.jobs.get({ id: paris.id })).scheduleText).toBe(paris.scheduleText);
    expect((await caller.jobs.update({ id: paris.id, cron: null, intervalMinutes: 60 })).scheduleText).toBe("every hour");
  });

  test("a row written by hand with an expression beyond the rules is listed as itself", async () => {
    const { caller, store } = freshCaller();
    store.client.run("INSERT INTO cron_jobs (name, job_type, cron, timezone) VALUES ('odd', 'noop', '5 4 * * 0-3/2', 'Asia/Tokyo')");
    const { items } = await caller.jobs.list();
    expect(items[0]!.scheduleText).toBe("cron 5 4 * * 0-3/2 (Asia/Tokyo)");
  });
});
