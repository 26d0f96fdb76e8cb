import { describe, expect, test } from "bun:test";
import { describeCron, describeInterval, describeSchedule, utcText, type ScheduleColumns } from "../../src/schedule/describe.ts";

const job = (fields: Partial<ScheduleColumns>): ScheduleColumns => ({ runAt: null, intervalMinutes: null, cron: null, timezone: null, ...fields });

describe("schedules in words", () => {
  test.each([
    [1, "every minute"], [5, "every 5 minutes"], [90, "every 90 minutes"], [60, "every hour"], [120, "every 2 hours"],
    [1440, "every day"], [4320, "every 3 days"], [10_080, "every week"], [20_160, "every 2 weeks"],
  ])("interval of %p minutes: %p", (minutes, words) => {
    expect(describeInterval(minutes)).toBe(words);
    expect(describeSchedule(job({ intervalMinutes: minutes, runAt: "2026-01-05T12:00:00Z" }))).toBe(words);
  });

  test.each([
    ["* * * * *", "UTC", "every minute"],
    ["*/5 * * * *", "Europe/Paris", "every 5 minutes"],
    ["0/15 * * * *", "UTC", "every 15 minutes"],
    ["0 * * * *", "UTC", "every hour"],
    ["30 * * * *", "UTC", "every hour at :30"],
    ["0,30 * * * *", "UTC", "every hour at :00 and :30"],
    ["0 */2 * * *", "Europe/Paris", "every 2 hours (Europe/Paris)"],
    ["15 */2 * * *", "UTC", "every 2 hours at :15 (UTC)"],
    ["0 9 * * 1-5", "Europe/Paris", "at 09:00, Monday through Friday (Europe/Paris)"],
    ["0 9 * * MON-FRI", "UTC", "at 09:00, Monday through Friday (UTC)"],
    ["0 3 * * *", "Europe/Berlin", "at 03:00, every day (Europe/Berlin)"],
    ["0 0 3 * * *", "Europe/Berlin", "at 03:00, every day (Europe/Berlin)"],
    ["@daily", "UTC", "at 00:00, every day (UTC)"],
    ["@hourly", "UTC", "every hour"],
    ["@weekly", "UTC", "at 00:00, on Sunday (UTC)"],
    ["@monthly", "UTC", "at 00:00, on the 1st of each month (UTC)"],
    ["@yearly", "UTC", "at 00:00, on the 1st of January (UTC)"],
    ["0 10 * * 0,6", "UTC", "at 10:00, on Saturday and Sunday (UTC)"],
    ["0 10 * * 6,7", "UTC", "at 10:00, on Saturday and Sunday (UTC)"],
    ["30 8 * * 1,4", "UTC", "at 08:30, on Monday and Thursday (UTC)"],
    ["0 8 * * 5-7", "UTC", "at 08:00, Friday through Sunday (UTC)"],
    ["0 9,17 * * *", "UTC", "at 09:00 and 17:00, every day (UTC)"],
    ["0 6 1,15 * *", "UTC", "at 06:00, on the 1st and 15th of each month (UTC)"],
    ["0 6 1-3 * *", "UTC", "at 06:00, on the 1st through 3rd of each month (UTC)"],
    ["0 23 L * *", "UTC", "at 23:00, on the last day of each month (UTC)"],
    ["0 0 1 1,7 *", "UTC", "at 00:00, on the 1st of January and July (UTC)"],
    ["0 12 * 12 *", "UTC", "at 12:00, every day in December (UTC)"],
    ["0 9 * 6-8 1-5", "UTC", "at 09:00, Monday through Friday in June through August (UTC)"],
    ["*/10 9-17 * * *", "UTC", "every 10 minutes from 09:00 to 17:50 (UTC)"],
    ["* 9 * * *", "UTC", "every minute from 09:00 to 09:59 (UTC)"],
    ["0 9-17 * * 1-5", "America/New_York", "every hour from 09:00 to 17:00, Monday through Friday (America/New_York)"],
    ["*/5 * * * 1-5", "UTC", "every 5 minutes, Monday through Friday (UTC)"],
    ["*/10 * * * * *", "UTC", "every 10 seconds"],
    ["* * * * * *", "UTC", "every second"],
    // Beyond these rules: the expression itself, with its zone.
    ["5 4 * * 0-3/2", "UTC", "cron 5 4 * * 0-3/2 (UTC)"],
    ["*/7 * * * *", "UTC", "cron */7 * * * * (UTC)"],
    ["30 * * * * *", "UTC", "cron 30 * * * * * (UTC)"],
    ["0 9 1 * 1", "UTC", "cron 0 9 1 * 1 (UTC)"],
    ["0 9 * * 1#2", "UTC", "cron 0 9 * * 1#2 (UTC)"],
    ["0 25 * * *", "UTC", "cron 0 25 * * * (UTC)"],
    ["constructor", "UTC", "cron constructor (UTC)"],
    ["__proto__", "UTC", "cron __proto__ (UTC)"],
    ["", "UTC", "cron  (UTC)"],
  ])("cron %p in %p: %p", (cron, zone, words) => {
    expect(describeCron(cron, zone)).toBe(words);
    expect(describeSchedule(job({ cron, timezone: zone }))).toBe(words);
  });

  test("a cron job without a zone is in UTC", () => {
    expect(describeSchedule(job({ cron: "0 3 * * *" }))).toBe("at 03:00, every day (UTC)");
  });

  test("a one-time job: once at its time in UTC, or as the caller writes times", () => {
    expect(describeSchedule(job({ runAt: "2026-12-01T09:00:00.000Z" }))).toBe("once at 2026-12-01 09:00 UTC");
    expect(describeSchedule(job({ runAt: new Date("2026-12-01T09:00:30Z") }))).toBe("once at 2026-12-01 09:00:30 UTC");
    // Years outside 1–9999 (written by hand): in words, not ISO's signed six digits.
    expect(describeSchedule(job({ runAt: Date.parse("-004712-01-01T00:00:00Z") }))).toBe("once at 4713-01-01 00:00 BC UTC");
    expect(describeSchedule(job({ runAt: Date.parse("+275760-09-13T00:00:00Z") }))).toBe("once at 275760-09-13 00:00 UTC");
    expect(describeSchedule(job({ runAt: Date.parse("0999-03-04T05:06:07Z") }))).toBe("once at 0999-03-04 05:06:07 UTC");
    expect(describeSchedule(job({ runAt: Date.parse("2026-12-01T09:00:00Z") }), { time: (ms) => `at ${ms}` })).toBe(`once at at ${Date.parse("2026-12-01T09:00:00Z")}`);
    expect(describeSchedule(job({ runAt: new Date(Number.NaN) }))).toBe("once, at a time that is not valid");
    expect(describeSchedule(job({}))).toBe("no schedule");
  });

  test("utcText", () => {
    expect(utcText(Date.parse("2026-01-05T07:03:00Z"))).toBe("2026-01-05 07:03 UTC");
  });
});
