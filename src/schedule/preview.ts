/**
 * What a schedule would do, before it is saved: its words and its next start times, in UTC
 * and on the wall clock of its zone. Pure (the caller passes `now`) and free of server code:
 * `jobs.preview` answers it, and the dashboard's form computes it as the schedule is typed.
 */
import { describeSchedule } from "./describe.ts";
import { DEFAULT_TIMEZONE, firstRunAt, nextSlotAfter, scheduleOf, zoneFormatter, type ScheduleFields } from "./schedule.ts";

export const PREVIEW_COUNT = 5;
export const PREVIEW_MAX_COUNT = 50;

export interface SchedulePreview {
  /** The schedule in words, as job items' `scheduleText`. */
  description: string;
  /** The zone of `nextLocal`: the cron expression's (default UTC). */
  timezone: string;
  /** The next start times, UTC ISO 8601 (`2026-10-23T07:00:00.000Z`); fewer when the schedule ends sooner. */
  next: string[];
  /** The same times on the wall clock of `timezone`, with its offset then (`2026-10-23T09:00:00.000+02:00`). */
  nextLocal: string[];
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `ms` as ISO 8601 on the wall clock of `zone`, with that zone's offset at that moment. */
export function localIso(ms: number, zone: string): string {
  const parts = zoneFormatter(zone).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const millis = ((ms % 1000) + 1000) % 1000;
  const wall = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"), millis);
  const offset = Math.round((wall - ms) / 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${pad(part("year"), 4)}-${pad(part("month"))}-${pad(part("day"))}T${pad(part("hour"))}:${pad(part("minute"))}:${pad(part("second"))}.${pad(millis, 3)}`
    + `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * The description and the next `count` start times of a schedule, as a job created `now`
 * with it would start when every run starts on time: a time already past starts at once (`now`).
 * Throws a `ScheduleError` naming the field when the schedule cannot be used.
 */
export function previewSchedule(fields: ScheduleFields, now: number, count = PREVIEW_COUNT): SchedulePreview {
  const schedule = scheduleOf(fields);
  const timezone = fields.timezone ?? DEFAULT_TIMEZONE;
  zoneFormatter(timezone);
  const times: number[] = [];
  let slot = firstRunAt(schedule, now);
  while (slot !== null && times.length < Math.min(count, PREVIEW_MAX_COUNT)) {
    const start = Math.max(slot, now);
    times.push(start);
    slot = nextSlotAfter(schedule, slot, start);
  }
  return {
    description: describeSchedule(fields),
    timezone,
    next: times.map((ms) => new Date(ms).toISOString()),
    nextLocal: times.map((ms) => localIso(ms, timezone)),
  };
}
