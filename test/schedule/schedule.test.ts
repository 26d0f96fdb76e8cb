import { describe, expect, spyOn, test } from "bun:test";
import { Cron } from "croner";
import fc from "fast-check";
import { checkCron, checkTimezone, firstRunAt, nextSlotAfter, scheduleOf, ScheduleError, zoneFormatter, type Schedule } from "../../src/schedule/schedule.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("nextSlotAfter: interval", () => {
  const every5: Schedule = { kind: "interval", intervalMinutes: 5, startAt: null };
  test.each([
    ["on time", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.050Z", "2026-01-01T00:05:00.000Z"],
    ["late within the slot: stays on the grid", "2026-01-01T00:00:00Z", "2026-01-01T00:03:10Z", "2026-01-01T00:05:00.000Z"],
    ["three missed slots: one run, next on the grid", "2026-01-01T00:00:00Z", "2026-01-01T00:17:00Z", "2026-01-01T00:20:00.000Z"],
    ["exactly on a later slot: the one after", "2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z", "2026-01-01T00:20:00.000Z"],
    ["clock stepped back an hour: never at or before the slot run", "2026-01-01T01:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T01:05:00.000Z"],
    ["clock stepped forward a day: one run, next on the grid", "2026-01-01T00:00:00Z", "2026-01-02T00:01:00Z", "2026-01-02T00:05:00.000Z"],
  ])("%s", (_, slot, now, expected) => {
    expect(iso(nextSlotAfter(every5, at(slot), at(now)))).toBe(expected);
  });

  test("no drift over many runs that each start late", () => {
    let slot = at("2026-01-01T00:00:00Z");
    for (let i = 0; i < 1000; i++) slot = nextSlotAfter(every5, slot, slot + 1234)!;
    expect(iso(slot)).toBe(new Date(at("2026-01-01T00:00:00Z") + 1000 * 300_000).toISOString());
  });
});

describe("nextSlotAfter: cron in America/New_York across DST", () => {
  const ny = (cron: string): Schedule => ({ kind: "cron", cron, timezone: "America/New_York", startAt: null });

  test("fall back (2026-11-01): 01:30 runs once, not twice", () => {
    const daily = ny("30 1 * * *");
    const first = nextSlotAfter(daily, at("2026-10-31T05:30:00Z"), at("2026-10-31T05:30:01Z"))!;
    expect(iso(first)).toBe("2026-11-01T05:30:00.000Z"); // 01:30 EDT
    const second = nextSlotAfter(daily, first, first + 1000)!;
    expect(iso(second)).toBe("2026-11-02T06:30:00.000Z"); // next day 01:30 EST, not 01:30 EST the same day
  });

  test("spring forward (2026-03-08): 02:30 does not exist, the run happens at 03:00 and is not lost", () => {
    const daily = ny("30 2 * * *");
    const slot = nextSlotAfter(daily, at("2026-03-07T07:30:00Z"), at("2026-03-07T07:30:01Z"))!;
    expect(iso(slot)).toBe("2026-03-08T07:00:00.000Z"); // 03:00 EDT
    expect(iso(nextSlotAfter(daily, slot, slot + 1000))).toBe("2026-03-09T06:30:00.000Z");
  });

  test("every 30 minutes through the repeated hour: every real half hour, none twice", () => {
    const half = ny("*/30 * * * *");
    const slots: string[] = [];
    let slot = at("2026-11-01T04:30:00Z");
    for (let i = 0; i < 6; i++) slots.push(iso((slot = nextSlotAfter(half, slot, slot)!))!);
    expect(slots).toEqual([
      "2026-11-01T05:00:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T06:00:00.000Z",
      "2026-11-01T06:30:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-01T07:30:00.000Z",
    ]);
    expect(new Set(slots).size).toBe(slots.length);
  });

  test("missed matches are skipped: the first match after now", () => {
    const hourly = ny("0 * * * *");
    expect(iso(nextSlotAfter(hourly, at("2026-01-01T00:00:00Z"), at("2026-01-01T05:10:00Z")))).toBe("2026-01-01T06:00:00.000Z");
  });

  test("zone matters: 03:00 Europe/Berlin is 02:00 UTC in winter", () => {
    const berlin: Schedule = { kind: "cron", cron: "0 3 * * *", timezone: "Europe/Berlin", startAt: null };
    expect(iso(nextSlotAfter(berlin, at("2026-01-10T00:00:00Z"), at("2026-01-10T00:00:00Z")))).toBe("2026-01-10T02:00:00.000Z");
  });
});

describe("firstRunAt", () => {
  const now = at("2026-01-01T10:07:00Z");
  test.each<[string, Schedule, string | null]>([
    ["one-time: run_at", { kind: "once", runAt: at("2026-01-02T00:00:00Z") }, "2026-01-02T00:00:00.000Z"],
    ["interval without start: now", { kind: "interval", intervalMinutes: 10, startAt: null }, "2026-01-01T10:07:00.000Z"],
    ["interval with start: the start", { kind: "interval", intervalMinutes: 10, startAt: at("2026-01-03T00:00:00Z") }, "2026-01-03T00:00:00.000Z"],
    ["cron: first match after now", { kind: "cron", cron: "*/15 * * * *", timezone: "UTC", startAt: null }, "2026-01-01T10:15:00.000Z"],
    ["cron with later start: first match from the start", { kind: "cron", cron: "0 * * * *", timezone: "UTC", startAt: at("2026-01-05T00:00:00Z") }, "2026-01-05T00:00:00.000Z"],
  ])("%s", (_, schedule, expected) => {
    expect(iso(firstRunAt(schedule, now))).toBe(expected);
  });
});

describe("scheduleOf rejects unusable rows, naming the field", () => {
  const base = { runAt: null, intervalMinutes: null, cron: null, timezone: null };
  test.each<[string, Parameters<typeof scheduleOf>[0], string]>([
    ["no schedule", base, "schedule"],
    ["interval and cron", { ...base, intervalMinutes: 5, cron: "* * * * *" }, "schedule"],
    ["interval 0", { ...base, intervalMinutes: 0 }, "intervalMinutes"],
    ["fractional interval", { ...base, intervalMinutes: 1.5 }, "intervalMinutes"],
    ["bad cron", { ...base, cron: "every day" }, "cron"],
    ["cron that never matches", { ...base, cron: "0 0 31 2 *" }, "cron"],
    ["unknown zone", { ...base, cron: "* * * * *", timezone: "Mars/Olympus" }, "timezone"],
    ["invalid date", { ...base, runAt: new Date(Number.NaN) }, "runAt"],
  ])("%s", (_, fields, field) => {
    let error: unknown;
    try {
      scheduleOf(fields);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScheduleError);
    expect((error as ScheduleError).field).toBe(field as ScheduleError["field"]);
  });

  test("a valid cron in a zone passes", () => {
    expect(() => checkCron("0 3 * * 1-5", "Europe/Berlin")).not.toThrow();
  });
});

describe("parsed schedules are cached, and answer as if parsed afresh", () => {
  test("every answer equals a fresh croner's, for runs asked in any order and within one second", () => {
    const exprs = ["*/5 * * * *", "0 9 * * 1-5", "30 1 * * *", "*/10 * * * * *", "0 0 1 * *"];
    const zones = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"];
    fc.assert(fc.property(
      fc.constantFrom(...exprs), fc.constantFrom(...zones),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 * 86_400_000 }), fc.integer({ min: 0, max: 2_000 })), { minLength: 1, maxLength: 20 }),
      (cron, timezone, asks) => {
        const schedule: Schedule = { kind: "cron", cron, timezone, startAt: null };
        const fresh = new Cron(cron, { timezone, paused: true });
        for (const [offset, late] of asks) {
          const slot = at("2026-10-01T00:00:00Z") + offset;
          const expected = fresh.nextRun(new Date(Math.max(slot, slot + late)))?.getTime() ?? null;
          expect(nextSlotAfter(schedule, slot, slot + late)).toBe(expected);
        }
      },
    ), { numRuns: 300 });
  });

  test("1,000 runs of one slot finishing over the same second all get the same next slot", () => {
    const schedule: Schedule = { kind: "cron", cron: "0 9 * * 1-5", timezone: "Europe/Paris", startAt: null };
    const slot = at("2026-10-23T07:00:00Z");
    const nexts = new Set(Array.from({ length: 1000 }, (_, i) => nextSlotAfter(schedule, slot, slot + i)));
    expect([...nexts].map(iso)).toEqual(["2026-10-26T08:00:00.000Z"]);
  });

  test("a burst parses its expression once and asks croner once a second; a zone's formatter is made once", () => {
    const asked = spyOn(Cron.prototype, "nextRun");
    try {
      // An expression and zone no other test uses, so the cache starts without them.
      const schedule: Schedule = { kind: "cron", cron: "17 4 * * *", timezone: "Asia/Tokyo", startAt: null };
      const slot = at("2026-10-22T19:17:00Z");
      for (let i = 0; i < 1_000; i++) nextSlotAfter(schedule, slot, slot + i); // 1,000 runs ending over one second
      for (let s = 1; s <= 5; s++) nextSlotAfter(schedule, slot, slot + s * 1_000); // then one in each of 5 later seconds
      expect(asked).toHaveBeenCalledTimes(6);
      expect(new Set(asked.mock.contexts).size).toBe(1); // one parse of the expression answered them all
    } finally {
      asked.mockRestore();
    }
    expect(zoneFormatter("Asia/Tokyo")).toBe(zoneFormatter("Asia/Tokyo"));
  });

  test("more distinct expressions than the cache holds still answer correctly, and a bad one keeps failing", () => {
    for (let i = 0; i < 12_000; i++) {
      const m = i % 60, h = Math.floor(i / 60) % 24, d = (Math.floor(i / 1440) % 28) + 1;
      const schedule = scheduleOf({ runAt: null, intervalMinutes: null, cron: `${m} ${h} ${d} * *`, timezone: "UTC" });
      expect(nextSlotAfter(schedule, at("2025-12-31T23:59:00Z"), at("2025-12-31T23:59:00Z"))).toBe(Date.UTC(2026, 0, d, h, m));
    }
    for (let i = 0; i < 2; i++) expect(() => checkCron("0 0 31 2 *")).toThrow(ScheduleError);
    expect(() => checkTimezone("Mars/Olympus")).toThrow(ScheduleError);
    expect(() => checkTimezone("Mars/Olympus")).toThrow(ScheduleError);
  }, 60_000); // 12,000 expressions parsed: about a second alone, several on a busy machine
});
