import { Cron } from "croner";

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

/** Throws a `ScheduleError` unless `zone` is an IANA time zone this runtime knows. */
export function checkTimezone(zone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    throw new ScheduleError("timezone", `timezone: unknown time zone "${zone}"`);
  }
}

const cronCache = new Map<string, Cron>();

function compileCron(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let compiled = cronCache.get(key);
  if (!compiled) {
    try {
      compiled = new Cron(expr, { timezone, paused: true });
    } catch (err) {
      throw new ScheduleError("cron", `cron: ${(err as Error).message.replace(/^CronPattern: /, "")}`);
    }
    if (cronCache.size > 10_000) cronCache.clear();
    cronCache.set(key, compiled);
  }
  return compiled;
}

/** Throws a `ScheduleError` unless `expr` is a cron expression that ever matches. */
export function checkCron(expr: string, timezone = DEFAULT_TIMEZONE): void {
  checkTimezone(timezone);
  if (compileCron(expr, timezone).nextRun(new Date(0)) === null) {
    throw new ScheduleError("cron", `cron: "${expr}" never matches`);
  }
}

function toMs(value: Date | number | null): number | null {
  if (value === null) return null;
  const ms = typeof value === "number" ? value : value.getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** Reads and checks the schedule columns of a row; throws a `ScheduleError` naming the column. */
export function scheduleOf(fields: ScheduleFields): Schedule {
  const runAt = toMs(fields.runAt);
  if (fields.runAt !== null && runAt === null) throw new ScheduleError("runAt", "runAt: not a valid time");
  if (fields.intervalMinutes !== null && fields.cron !== null) {
    throw new ScheduleError("schedule", "schedule: give intervalMinutes or cron, not both");
  }
  if (fields.intervalMinutes !== null) {
    if (!Number.isInteger(fields.intervalMinutes) || fields.intervalMinutes < 1) {
      throw new ScheduleError("intervalMinutes", "intervalMinutes: must be an integer of at least 1");
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

function nextCronMatch(schedule: { cron: string; timezone: string }, after: number): number | null {
  const next = compileCron(schedule.cron, schedule.timezone).nextRun(new Date(after));
  return next ? next.getTime() : null;
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
      return slot + (Math.floor(behind / step) + 1) * step;
    }
    case "cron":
      return nextCronMatch(schedule, Math.max(slot, now));
  }
}
