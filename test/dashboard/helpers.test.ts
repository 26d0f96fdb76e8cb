import { describe, expect, test } from "bun:test";
import { addRun, bucketRuns, bucketsOf, DAY_OF_HOURS, windowStart, type Tally } from "../../src/dashboard/buckets.ts";
import { fieldErrors } from "../../src/dashboard/field-errors.ts";
import { formatDuration, formatUtc, relativeTime } from "../../src/dashboard/format.ts";
import { cronInWords, intervalInWords, scheduleInWords } from "../../src/dashboard/schedule-words.ts";

const job = (fields: Partial<Parameters<typeof scheduleInWords>[0]>) => ({ runAt: null, intervalMinutes: null, cron: null, timezone: null, ...fields });

describe("schedule in words", () => {
  test.each([
    [1, "every minute"], [5, "every 5 minutes"], [90, "every 90 minutes"], [60, "every hour"], [120, "every 2 hours"],
    [1440, "every day"], [4320, "every 3 days"], [10_080, "every week"], [20_160, "every 2 weeks"],
  ])("interval of %p minutes: %p", (minutes, words) => {
    expect(intervalInWords(minutes)).toBe(words);
    expect(scheduleInWords(job({ intervalMinutes: minutes, runAt: "2026-01-05T12:00:00Z" }))).toBe(words);
  });

  test.each([
    ["* * * * *", "UTC", "every minute"],
    ["*/5 * * * *", "UTC", "every 5 minutes"],
    ["0 * * * *", "UTC", "every hour"],
    ["30 * * * *", "UTC", "every hour at :30"],
    ["15 */2 * * *", "UTC", "every 2 hours at :15"],
    ["0 3 * * *", "Europe/Berlin", "at 03:00 Europe/Berlin"],
    ["0 0 3 * * *", "Europe/Berlin", "at 03:00 Europe/Berlin"],
    ["@daily", "UTC", "at 00:00 UTC"],
    ["@hourly", "UTC", "every hour"],
    ["0 9 * * 1-5", "America/New_York", "at 09:00 America/New_York on weekdays"],
    ["0 9 * * MON-FRI", "UTC", "at 09:00 UTC on weekdays"],
    ["0 10 * * 0,6", "UTC", "at 10:00 UTC on weekends"],
    ["30 8 * * 1,4", "UTC", "at 08:30 UTC on Monday and Thursday"],
    ["0 9,17 * * *", "UTC", "at 09:00 and 17:00 UTC"],
    ["0 0 1 * *", "UTC", "at 00:00 UTC on the 1st of each month"],
    ["0 6 1,15 * *", "UTC", "at 06:00 UTC on the 1st and 15th of each month"],
    ["0 0 1 1 *", "UTC", "at 00:00 UTC on 1 January"],
    ["5 4 * * 0-3/2", "UTC", "cron 5 4 * * 0-3/2 (UTC)"],
    ["*/10 9-17 * * *", "UTC", "cron */10 9-17 * * * (UTC)"],
    ["30 * * * * *", "UTC", "cron 30 * * * * * (UTC)"],
  ])("cron %p in %p: %p", (cron, zone, words) => {
    expect(cronInWords(cron, zone)).toBe(words);
  });

  test("a cron job without a zone is in UTC", () => {
    expect(scheduleInWords(job({ cron: "0 3 * * *" }))).toBe("at 03:00 UTC");
  });

  test("a one-time job: once at its time, in the given zone", () => {
    const once = job({ runAt: "2026-01-05T12:00:00.000Z" });
    expect(scheduleInWords(once, { timeZone: "UTC", locale: "en-GB" })).toBe("once at 5 Jan 2026, 12:00");
    expect(scheduleInWords(once, { timeZone: "Europe/Berlin", locale: "en-GB" })).toBe("once at 5 Jan 2026, 13:00");
    expect(scheduleInWords(once, { timeZone: "UTC", locale: "en-GB", now: Date.parse("2026-06-01T00:00:00Z") })).toBe("once at 5 Jan, 12:00");
    expect(scheduleInWords(once, { timeZone: "UTC", locale: "en-GB", now: Date.parse("2025-12-31T00:00:00Z") })).toBe("once at 5 Jan 2026, 12:00");
  });
});

describe("relative time", () => {
  const now = Date.parse("2026-01-05T12:00:00Z");
  test.each([
    [0, "just now"], [-4_000, "just now"], [3_000, "in a moment"], [-59_999, "59 s ago"], [30_000, "in 30 s"],
    [-60_000, "1 min ago"], [5 * 60_000 + 59_000, "in 5 min"], [-3 * 3_600_000, "3 h ago"], [47 * 3_600_000, "in 47 h"],
    [-3 * 86_400_000, "3 days ago"], [800 * 86_400_000, "in 2 years"],
  ])("%p ms from now: %p", (offset, words) => {
    expect(relativeTime(now + offset, now)).toBe(words);
  });

  test("durations and UTC titles", () => {
    expect([formatDuration(12), formatDuration(1500), formatDuration(42_000), formatDuration(125_000), formatDuration(3_780_000)])
      .toEqual(["12 ms", "1.5 s", "42 s", "2 min 5 s", "1 h 3 min"]);
    expect(formatUtc(now)).toBe("2026-01-05 12:00:00 UTC");
  });
});

describe("bucketing", () => {
  const hour = 3_600_000;
  const now = Date.parse("2026-01-05T12:34:00Z");

  test("24 hourly buckets, oldest first, the last holding now", () => {
    const buckets = bucketRuns([], now);
    expect(buckets).toHaveLength(24);
    expect(buckets[23]!.start).toBe(Date.parse("2026-01-05T12:00:00Z"));
    expect(buckets[0]!.start).toBe(Date.parse("2026-01-04T13:00:00Z"));
    expect(windowStart(now, DAY_OF_HOURS)).toBe(buckets[0]!.start);
  });

  test("each run counts in its bucket by status; runs outside the window are left out", () => {
    const buckets = bucketRuns([
      { finishedAt: now, status: "succeeded" },
      { finishedAt: now - 34 * 60_000, status: "failed" }, // 12:00 sharp: the current bucket
      { finishedAt: now - 34 * 60_000 - 1, status: "timed_out" }, // 11:59:59.999: the one before
      { finishedAt: now - 5 * hour, status: "succeeded" },
      { finishedAt: now - 5 * hour, status: "succeeded" },
      { finishedAt: now - 24 * hour, status: "failed" }, // 12:34 yesterday: before the window
      { finishedAt: now + hour, status: "failed" }, // in the future: not shown
    ], now);
    expect(buckets[23]).toMatchObject({ succeeded: 1, failed: 1, timedOut: 0 });
    expect(buckets[22]).toMatchObject({ succeeded: 0, failed: 0, timedOut: 1 });
    expect(buckets[18]).toMatchObject({ succeeded: 2, failed: 0, timedOut: 0 });
    const total = buckets.reduce((n, b) => n + b.succeeded + b.failed + b.timedOut, 0);
    expect(total).toBe(5);
  });

  test("a tally kept across calls moves with the window", () => {
    const tally: Tally = new Map();
    addRun(tally, { finishedAt: now - 23 * hour, status: "succeeded" }, hour);
    expect(bucketsOf(tally, now)[0]!.succeeded).toBe(1);
    expect(bucketsOf(tally, now + hour).every((b) => b.succeeded === 0)).toBe(true);
  });
});

describe("field errors", () => {
  const fields = ["name", "intervalMinutes", "cron", "payload", "schedule"];
  test("each message goes to its field; paths to their first segment; the rest to the form", () => {
    const errors = fieldErrors("intervalMinutes: must be at least 1; payload.url: Invalid URL; input: unknown; cron: bad; list; of things", fields);
    expect(errors.get("intervalMinutes")).toBe("must be at least 1");
    expect(errors.get("payload")).toBe("Invalid URL");
    expect(errors.get("cron")).toBe("bad; list; of things");
    expect(errors.get("")).toBe("input: unknown");
  });
  test("a message naming no field is the form's", () => {
    expect(fieldErrors("job 3 is running now", fields).get("")).toBe("job 3 is running now");
  });
});
