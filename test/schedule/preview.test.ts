import { describe, expect, test } from "bun:test";
import { localIso, previewSchedule } from "../../src/schedule/preview.ts";
import { ScheduleError } from "../../src/schedule/schedule.ts";

const at = (iso: string) => Date.parse(iso);
const none = { runAt: null, intervalMinutes: null, cron: null, timezone: null };

describe("previewSchedule", () => {
  test("0 9 * * 1-5 in Europe/Paris across the end of summer time: weekdays at 07:00Z before it, 08:00Z after it", () => {
    // Summer time ends on Sunday 2026-10-25 at 03:00 CEST.
    const preview = previewSchedule({ ...none, cron: "0 9 * * 1-5", timezone: "Europe/Paris" }, at("2026-10-21T12:00:00Z"), 6);
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
  });

  test("America/New_York in spring: 02:30 does not exist that day, the run is at 03:00 EDT", () => {
    const preview = previewSchedule({ ...none, cron: "30 2 * * *", timezone: "America/New_York" }, at("2026-03-07T12:00:00Z"), 3);
    expect(preview.next).toEqual(["2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z", "2026-03-10T06:30:00.000Z"]);
    expect(preview.nextLocal).toEqual(["2026-03-08T03:00:00.000-04:00", "2026-03-09T02:30:00.000-04:00", "2026-03-10T02:30:00.000-04:00"]);
  });

  test("an interval starts now, then every N minutes; with a start in the past, at once, then on its grid", () => {
    const now = at("2026-01-05T12:00:10Z");
    expect(previewSchedule({ ...none, intervalMinutes: 5 }, now, 3)).toEqual({
      description: "every 5 minutes", timezone: "UTC",
      next: ["2026-01-05T12:00:10.000Z", "2026-01-05T12:05:10.000Z", "2026-01-05T12:10:10.000Z"],
      nextLocal: ["2026-01-05T12:00:10.000+00:00", "2026-01-05T12:05:10.000+00:00", "2026-01-05T12:10:10.000+00:00"],
    });
    expect(previewSchedule({ ...none, intervalMinutes: 60, runAt: at("2026-01-05T08:30:00Z") }, now, 3).next)
      .toEqual(["2026-01-05T12:00:10.000Z", "2026-01-05T12:30:00.000Z", "2026-01-05T13:30:00.000Z"]);
  });

  test("a one-time job: its one time, in the zone given", () => {
    expect(previewSchedule({ ...none, runAt: at("2026-12-01T09:00:00Z"), timezone: "Asia/Kolkata" }, at("2026-11-01T00:00:00Z"), 5)).toEqual({
      description: "once at 2026-12-01 09:00 UTC", timezone: "Asia/Kolkata",
      next: ["2026-12-01T09:00:00.000Z"], nextLocal: ["2026-12-01T14:30:00.000+05:30"],
    });
  });

  test("a cron with a later start begins there; count is capped at 50", () => {
    const preview = previewSchedule({ ...none, cron: "0 * * * *", runAt: at("2027-01-01T00:00:00Z") }, at("2026-01-01T00:00:00Z"), 500);
    expect(preview.next[0]).toBe("2027-01-01T00:00:00.000Z");
    expect(preview.next).toHaveLength(50);
  });

  test.each([
    ["bad cron", { ...none, cron: "every day" }, "cron"],
    ["a cron that never matches", { ...none, cron: "0 0 31 2 *" }, "cron"],
    ["an unknown zone", { ...none, cron: "0 9 * * *", timezone: "Europe/Pariss" }, "timezone"],
    ["an unknown zone for an interval", { ...none, intervalMinutes: 5, timezone: "Nowhere/Land" }, "timezone"],
    ["no schedule", none, "schedule"],
  ])("%s: a ScheduleError naming %p", (_, fields, field) => {
    let error: unknown;
    try {
      previewSchedule(fields, at("2026-01-01T00:00:00Z"));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScheduleError);
    expect((error as ScheduleError).field).toBe(field as ScheduleError["field"]);
  });
});

describe("localIso", () => {
  test.each([
    ["2026-07-01T10:00:00.250Z", "Europe/Paris", "2026-07-01T12:00:00.250+02:00"],
    ["2026-01-01T00:30:00Z", "America/St_Johns", "2025-12-31T21:00:00.000-03:30"],
    ["2026-01-01T00:00:00Z", "Asia/Kathmandu", "2026-01-01T05:45:00.000+05:45"],
    ["2026-01-01T00:00:00Z", "UTC", "2026-01-01T00:00:00.000+00:00"],
  ])("%s in %s: %s", (instant, zone, expected) => {
    expect(localIso(at(instant), zone)).toBe(expected);
    expect(Date.parse(expected)).toBe(at(instant));
  });
});
