import { describe, expect, test } from "bun:test";
import { livePreview, type TypedSchedule } from "../../src/dashboard/schedule-preview.ts";

const typed = (fields: Partial<TypedSchedule> & Pick<TypedSchedule, "kind">): TypedSchedule =>
  ({ runAt: null, intervalMinutes: null, cron: null, timezone: null, ...fields });
const now = Date.parse("2026-10-21T12:00:00Z");

describe("the job form's live schedule preview", () => {
  test("a cron expression: its words and its next five start times in its zone, with UTC beside them", () => {
    expect(livePreview(typed({ kind: "cron", cron: "0 9 * * 1-5", timezone: "Europe/Paris" }), now, "America/New_York", "en-GB")).toEqual({
      state: "ok",
      words: "Runs at 09:00, Monday through Friday (Europe/Paris).",
      times: [
        { iso: "2026-10-22T07:00:00.000Z", text: "Thu 22 Oct, 09:00", zone: "Europe/Paris · 07:00 UTC" },
        { iso: "2026-10-23T07:00:00.000Z", text: "Fri 23 Oct, 09:00", zone: "Europe/Paris · 07:00 UTC" },
        { iso: "2026-10-26T08:00:00.000Z", text: "Mon 26 Oct, 09:00", zone: "Europe/Paris · 08:00 UTC" },
        { iso: "2026-10-27T08:00:00.000Z", text: "Tue 27 Oct, 09:00", zone: "Europe/Paris · 08:00 UTC" },
        { iso: "2026-10-28T08:00:00.000Z", text: "Wed 28 Oct, 09:00", zone: "Europe/Paris · 08:00 UTC" },
      ],
    });
  });

  test("an interval or a one-time job: in the browser's zone, where Run at is typed", () => {
    const every = livePreview(typed({ kind: "interval", intervalMinutes: 90 }), now, "UTC", "en-GB");
    expect(every).toMatchObject({ state: "ok", words: "Runs every 90 minutes." });
    expect(every.state === "ok" && every.times.map((t) => `${t.text} ${t.zone}`)).toEqual([
      "Wed 21 Oct, 12:00 UTC", "Wed 21 Oct, 13:30 UTC", "Wed 21 Oct, 15:00 UTC", "Wed 21 Oct, 16:30 UTC", "Wed 21 Oct, 18:00 UTC",
    ]);
    const once = livePreview(typed({ kind: "once", runAt: "2027-01-05T12:00:00.000Z" }), now, "Asia/Tokyo", "en-GB");
    expect(once).toEqual({
      state: "ok", words: "Runs once at 2027-01-05 12:00 UTC.",
      times: [{ iso: "2027-01-05T12:00:00.000Z", text: "Tue, 5 Jan 2027, 21:00", zone: "Asia/Tokyo · 12:00 UTC" }],
    });
  });

  test.each<[string, TypedSchedule, string, string]>([
    ["a bad expression", typed({ kind: "cron", cron: "61 * * * *" }), "cron", "Invalid value for minute: 61"],
    ["an expression cut short", typed({ kind: "cron", cron: "0 9 * *" }), "cron", "invalid configuration format ('0 9 * *'), exactly five, six, or seven space separated parts are required."],
    ["an unknown zone", typed({ kind: "cron", cron: "0 9 * * *", timezone: "Europe/Pariss" }), "timezone", 'unknown time zone "Europe/Pariss"'],
    ["an interval of 0 (the server's words)", typed({ kind: "interval", intervalMinutes: 0 }), "intervalMinutes", "must be at least 1"],
  ])("%s: the error of its field at once", (_, schedule, field, message) => {
    expect(livePreview(schedule, now, "UTC")).toEqual({ state: "error", field: field as never, message });
  });

  test("nothing while the chosen kind's field is empty", () => {
    expect(livePreview(typed({ kind: "cron", runAt: "2027-01-05T12:00:00.000Z" }), now, "UTC")).toEqual({ state: "empty" });
    expect(livePreview(typed({ kind: "interval" }), now, "UTC")).toEqual({ state: "empty" });
    expect(livePreview(typed({ kind: "once" }), now, "UTC")).toEqual({ state: "empty" });
  });
});
