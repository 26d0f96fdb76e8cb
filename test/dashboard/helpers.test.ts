import { TRPCClientError } from "@trpc/client";
import { describe, expect, test } from "bun:test";
import { addRun, bucketRuns, bucketsOf, DAY_OF_HOURS, windowStart, type BucketCounts } from "../../src/reads/run-buckets.ts";
import { fieldErrors } from "../../src/dashboard/field-errors.ts";
import { formatDateTime, formatDuration, formatUtc, relativeTime } from "../../src/dashboard/format.ts";

describe("formatDateTime (times written on the dashboard)", () => {
  const ms = Date.parse("2026-01-05T12:00:00.000Z");
  test("in the given zone and locale, on a 24-hour clock; without the year in the year of now", () => {
    expect(formatDateTime(ms, { timeZone: "UTC", locale: "en-GB" })).toBe("5 Jan 2026, 12:00");
    expect(formatDateTime(ms, { timeZone: "Europe/Berlin", locale: "en-GB" })).toBe("5 Jan 2026, 13:00");
    expect(formatDateTime(ms, { timeZone: "UTC", locale: "en-GB", now: Date.parse("2026-06-01T00:00:00Z") })).toBe("5 Jan, 12:00");
    expect(formatDateTime(ms, { timeZone: "UTC", locale: "en-GB", now: Date.parse("2025-12-31T00:00:00Z") })).toBe("5 Jan 2026, 12:00");
    expect(formatDateTime(ms, { timeZone: "Europe/Paris", locale: "en-GB", now: ms, weekday: true })).toBe("Mon 5 Jan, 13:00");
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
    const tally: BucketCounts = new Map();
    addRun(tally, { finishedAt: now - 23 * hour, status: "succeeded" }, hour);
    expect(bucketsOf(tally, now)[0]!.succeeded).toBe(1);
    expect(bucketsOf(tally, now + hour).every((b) => b.succeeded === 0)).toBe(true);
  });
});

describe("field errors (read from the error's data, never from its message)", () => {
  const fields = ["name", "intervalMinutes", "cron", "payload", "schedule"];
  const served = (fieldErrors: Record<string, string[]> | undefined, message = "irrelevant: text") =>
    TRPCClientError.from({ error: { message, code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, ...(fieldErrors ? { fieldErrors } : {}) } } });
  test("each message goes to its field; paths to their first segment, or as renamed; the rest to the form", () => {
    const err = served({ intervalMinutes: ["must be at least 1"], "payload.url": ["Invalid URL"], input: ["unknown"], cron: ["bad; list; of things"] });
    const errors = fieldErrors(err, fields);
    expect(errors.get("intervalMinutes")).toBe("must be at least 1");
    expect(errors.get("payload")).toBe("Invalid URL");
    expect(errors.get("cron")).toBe("bad; list; of things");
    expect(errors.get("")).toBe("input: unknown");
    expect(fieldErrors(err, [...fields, "httpUrl"], { "payload.url": "httpUrl" }).get("httpUrl")).toBe("Invalid URL");
  });
  test("an error naming no field is the form's", () => {
    expect(fieldErrors(served(undefined, "job 3 is running now"), fields).get("")).toBe("job 3 is running now");
  });
});
