import { Cron } from "croner";
import { LruCache } from "./lru.ts";

/**
 * When a job runs, as a value. Pure: nothing here reads a clock or a database, so "when is
 * this due next" is a function of (schedule, last slot, now) and is tested as a table.
 */
export type Schedule =
  | { kind: "once"; runAt: number }
  | { kind: "interval"; intervalMinutes: number; startAt: number | null }
  | { kind: "cron"; cron: string; timezone: string; startAt: number | null };

/** The schedule columns of a `cron_jobs` row. */
export interface ScheduleFields {
  runAt: Date | number | null;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string | null;
}

/** A schedule that cannot be used; `field` names the column or input at fault. */
export class ScheduleError extends Error {
  constructor(readonly field: "runAt" | "intervalMinutes" | "cron" | "timezone" | "schedule", message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

export const DEFAULT_TIMEZONE = "UTC";
const MINUTE = 60_000;
/** The last instant a `Date` holds (ms); a time past it (written by hand) is no time at all. */
export const MAX_TIME_MS = 8.64e15;
/** The largest interval whose slots stay inside the range of a `Date` (a hand-written row may hold more). */
export const MAX_INTERVAL_MINUTES = MAX_TIME_MS / MINUTE;

// Parsed schedules are kept (SPEC §4): a burst of 1,000 runs of one expression parses it once,
// checks once that it ever matches, and builds one formatter per zone. Both caches are bounded
// because hand-written rows may hold any number of distinct expressions.
const CRON_CACHE_SIZE = 10_000;
const ZONE_CACHE_SIZE = 1_000;
/**
 * A parse enters the cache on its third use, and waits in this small one till then: deriving a
 * row uses its expression twice, so a backlog of distinct expressions filled the cache with
 * parses used once, and the garbage of 10,000 of them, aged past the young generation, made each
 * parse ~6x slower (0.3 ms instead of 0.05, in GC).
 */
const FRESH_CACHE_SIZE = 64;
const ADMIT_AT_USE = 3;

/** A cron expression parsed for one zone, with what has been learnt about it. */
interface CompiledCron {
  cron: Cron;
  /** Whether it ever matches; found out on the first check. */
  matches: boolean | undefined;
  /** The last `nextRun` answer and the whole second it was asked from (croner counts in whole seconds). */
  fromSecond: number;
  next: number | null;
  /** Uses so far while in the fresh cache. */
  uses: number;
}

const crons = new LruCache<string, CompiledCron>(CRON_CACHE_SIZE);
const freshCrons = new LruCache<string, CompiledCron>(FRESH_CACHE_SIZE);
const zones = new LruCache<string, Intl.DateTimeFormat>(ZONE_CACHE_SIZE);

/**
 * The wall-clock formatter of an IANA zone (24-hour clock, every field two digits), made once
 * per zone; throws a `ScheduleError` when this runtime does not know the zone.
 */
export function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = zones.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
      });
    } catch {
      throw new ScheduleError("timezone", `timezone: unknown time zone "${zone}"`);
    }
    zones.set(zone, formatter);
  }
  return formatter;
}

/** Throws a `ScheduleError` unless `zone` is an IANA time zone this runtime knows. */
export function checkTimezone(zone: string): void {
  zoneFormatter(zone);
}

function compileCron(expr: string, timezone: string): CompiledCron {
  const key = `${timezone}\u0000${expr}`;
  let compiled = crons.get(key);
  if (compiled) return compiled;
  compiled = freshCrons.get(key);
  if (compiled) {
    if (++compiled.uses === ADMIT_AT_USE) crons.set(key, compiled);
    return compiled;
  }
  try {
    compiled = { cron: new Cron(expr, { timezone, paused: true }), matches: undefined, fromSecond: Number.NaN, next: null, uses: 1 };
  } catch (err) {
    throw new ScheduleError("cron", `cron: ${(err as Error).message.replace(/^CronPattern: /, "")}`);
  }
  freshCrons.set(key, compiled);
  return compiled;
}

/** Throws a `ScheduleError` unless `expr` is a cron expression that ever matches. */
export function checkCron(expr: string, timezone = DEFAULT_TIMEZONE): void {
  checkTimezone(timezone);
  const compiled = compileCron(expr, timezone);
  compiled.matches ??= compiled.cron.nextRun(new Date(0)) !== null;
  if (!compiled.matches) throw new ScheduleError("cron", `cron: "${expr}" never matches`);
}

/** A time as epoch ms; null for null and for a time no `Date` can hold. */
export function toMs(value: Date | number | null): number | null {
  if (value === null) return null;
  const ms = typeof value === "number" ? value : value.getTime();
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS ? ms : null;
}

/** Reads and checks the schedule columns of a row; throws a `ScheduleError` naming the column. */
export function scheduleOf(fields: ScheduleFields): Schedule {
  const runAt = toMs(fields.runAt);
  if (fields.runAt !== null && runAt === null) throw new ScheduleError("runAt", "runAt: not a valid time");
  if (fields.intervalMinutes !== null && fields.cron !== null) {
    throw new ScheduleError("schedule", "schedule: give intervalMinutes or cron, not both");
  }
  if (fields.intervalMinutes !== null) {
    // The same words as the control plane's input check, so the form's live error and the server's agree.
    if (!Number.isInteger(fields.intervalMinutes)) throw new ScheduleError("intervalMinutes", "intervalMinutes: must be a whole number of minutes");
    if (fields.intervalMinutes < 1) throw new ScheduleError("intervalMinutes", "intervalMinutes: must be at least 1");
    if (fields.intervalMinutes > MAX_INTERVAL_MINUTES) {
      throw new ScheduleError("intervalMinutes", `intervalMinutes: ${fields.intervalMinutes} is too large: its next slot would be past the last time a date can hold (at most ${MAX_INTERVAL_MINUTES})`);
    }
    return { kind: "interval", intervalMinutes: fields.intervalMinutes, startAt: runAt };
  }
  if (fields.cron !== null) {
    const timezone = fields.timezone ?? DEFAULT_TIMEZONE;
    checkCron(fields.cron, timezone);
    return { kind: "cron", cron: fields.cron, timezone, startAt: runAt };
  }
  if (runAt === null) throw new ScheduleError("schedule", "schedule: give runAt, intervalMinutes or cron");
  return { kind: "once", runAt };
}

/** The first match after `after`; the runs of one slot finish within the same second, so they ask croner once. */
export function nextCronMatch(schedule: { cron: string; timezone: string }, after: number): number | null {
  const compiled = compileCron(schedule.cron, schedule.timezone);
  const second = Math.floor(after / 1000);
  if (compiled.fromSecond !== second) {
    compiled.next = compiled.cron.nextRun(new Date(after))?.getTime() ?? null;
    compiled.fromSecond = second;
  }
  return compiled.next;
}

/**
 * When a new (or re-scheduled) job is first due: a one-time job at `runAt`, an interval job
 * at its start or now, a cron job at its first match after now (or after its start).
 */
export function firstRunAt(schedule: Schedule, now: number): number | null {
  switch (schedule.kind) {
    case "once":
      return schedule.runAt;
    case "interval":
      return schedule.startAt ?? now;
    case "cron":
      return nextCronMatch(schedule, Math.max(now, schedule.startAt ?? now) - 1);
  }
}

/**
 * The first slot strictly after both `slot` (the one just run) and `now`; `null` for a
 * one-time job, or a cron expression with no match left. Interval slots stay on the grid of
 * the original schedule (no drift) and missed slots are skipped (the misfire policy: run once).
 * A clock stepped back never yields a slot at or before the one already run.
 */
export function nextSlotAfter(schedule: Schedule, slot: number, now: number): number | null {
  switch (schedule.kind) {
    case "once":
      return null;
    case "interval": {
      const step = schedule.intervalMinutes * MINUTE;
      const behind = Math.max(0, now - slot);
      const next = slot + (Math.floor(behind / step) + 1) * step;
      // Past the last time a date can hold (a hand-written start near it): no slot is left.
      return Number.isFinite(next) && next <= MAX_TIME_MS && next > now && next > slot ? next : null;
    }
    case "cron":
      return nextCronMatch(schedule, Math.max(slot, now));
  }
}
