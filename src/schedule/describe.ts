/**
 * A schedule in plain words: "every 5 minutes", "at 09:00, Monday through Friday (Europe/Paris)",
 * "once at 2026-12-01 09:00 UTC". Pure and free of server code: the server answers these words
 * as `scheduleText`, and the dashboard's bundle uses the same function in the browser.
 * An expression these rules do not cover is written as itself with its zone.
 */

/** The schedule columns of a job: a stored row (`Date`s) or a job as the control plane answers it (ISO strings). */
export interface ScheduleColumns {
  runAt: Date | string | number | null;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string | null;
}

export interface DescribeOptions {
  /** How a one-time job's time is written; default `2026-12-01 09:00 UTC`. */
  time?: ((ms: number) => string) | undefined;
}

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAY_ALIASES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_ALIASES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

// A Map, not an object: a hand-written expression such as "constructor" must not find a prototype key.
const NICKNAMES = new Map(Object.entries({
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}));

export function describeSchedule(job: ScheduleColumns, options: DescribeOptions = {}): string {
  if (job.cron !== null) return describeCron(job.cron, job.timezone ?? "UTC");
  if (job.intervalMinutes !== null) return describeInterval(job.intervalMinutes);
  if (job.runAt === null) return "no schedule";
  const ms = job.runAt instanceof Date ? job.runAt.getTime() : typeof job.runAt === "number" ? job.runAt : Date.parse(job.runAt);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return "once, at a time that is not valid";
  return `once at ${(options.time ?? utcText)(ms)}`;
}

/** `2026-12-01 09:00 UTC` (seconds only when there are some); years outside 1–9999 as `4713-01-01 00:00 BC UTC`, `275760-09-13 00:00 UTC`. */
export function utcText(ms: number): string {
  const date = new Date(ms);
  const iso = date.toISOString();
  // ISO writes years outside 0–9999 with a sign and six digits (`-004712-01-01T…`).
  const time = iso.slice(iso.indexOf("T") + 1);
  const monthDay = iso.slice(iso.indexOf("T") - 5, iso.indexOf("T"));
  const year = date.getUTCFullYear();
  const seconds = time.slice(6, 8) === "00" ? "" : time.slice(5, 8);
  const era = String(year >= 1 ? year : 1 - year).padStart(4, "0");
  return `${era}-${monthDay} ${time.slice(0, 5)}${seconds}${year >= 1 ? "" : " BC"} UTC`;
}

const every = (n: number, unit: string) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);

export function describeInterval(minutes: number): string {
  if (!Number.isSafeInteger(minutes) || minutes < 1) return `every ${minutes} minutes (not a valid interval)`;
  if (minutes % 10_080 === 0) return every(minutes / 10_080, "week");
  if (minutes % 1440 === 0) return every(minutes / 1440, "day");
  if (minutes % 60 === 0) return every(minutes / 60, "hour");
  return every(minutes, "minute");
}

/** A list in words: "a", "a and b", "a, b and c". */
function listWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Sorted distinct numbers as words: three or more in a row are "first through last". */
function spanWords(numbers: number[], name: (n: number) => string): string {
  const consecutive = numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1);
  if (consecutive && numbers.length >= 3) return `${name(numbers[0]!)} through ${name(numbers.at(-1)!)}`;
  return listWords(numbers.map(name));
}

const pad = (n: number) => String(n).padStart(2, "0");
const clock = (h: number, m: number) => `${pad(h)}:${pad(m)}`;
const ordinal = (n: number) => `${n}${n % 10 === 1 && n !== 11 ? "st" : n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th"}`;
const isAny = (field: string) => field === "*" || field === "?";

/** The sorted distinct numbers a field lists ("1,15", "1-5", "MON-FRI"); null for steps or anything unusual. */
function numbersOf(field: string, min: number, max: number, aliases: string[] = [], aliasBase = 0): number[] | null {
  const value = (part: string) => {
    const alias = aliases.indexOf(part.toUpperCase());
    if (alias >= 0) return alias + aliasBase;
    return /^\d{1,2}$/.test(part) ? Number(part) : Number.NaN;
  };
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [from, to, ...rest] = part.split("-");
    const a = value(from ?? "");
    const b = to === undefined ? a : value(to);
    if (rest.length > 0 || !Number.isInteger(a) || !Number.isInteger(b) || a > b || a < min || b > max) return null;
    for (let n = a; n <= b; n++) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

/** `*`/N or 0/N where N divides `period` (so the steps are even all round); otherwise undefined. */
function evenStep(field: string, period: number): number | undefined {
  const match = /^(?:\*|0)\/(\d{1,2})$/.exec(field);
  const step = match ? Number(match[1]) : Number.NaN;
  return step >= 1 && step < period && period % step === 0 ? step : undefined;
}

/** The days in words ("Monday through Friday", "on the 1st of each month"); "" for every day; null when unusual. */
function daysInWords(dom: string, month: string, dow: string): string | null {
  let months = "";
  if (!isAny(month)) {
    const listed = numbersOf(month, 1, 12, MONTH_ALIASES, 1);
    if (!listed) return null;
    if (listed.length < 12) months = spanWords(listed, (m) => MONTH_NAMES[m - 1]!);
  }
  if (!isAny(dom) && !isAny(dow)) return null; // either one matches: not worth words
  if (!isAny(dow)) {
    // Monday first, so that Friday through Monday is not one span and Saturday and Sunday are.
    const listed = numbersOf(dow, 0, 7, DAY_ALIASES);
    if (!listed) return null;
    const days = [...new Set(listed.map((d) => (d === 0 ? 7 : d)))].sort((a, b) => a - b);
    if (days.length < 7) {
      const words = spanWords(days, (d) => DAY_NAMES[d % 7]!);
      return `${words.includes(" through ") ? words : `on ${words}`}${months ? ` in ${months}` : ""}`;
    }
  }
  if (!isAny(dom)) {
    const last = dom.toUpperCase() === "L";
    const dates = last ? [] : numbersOf(dom, 1, 31);
    if (!dates) return null;
    const which = last ? "the last day" : `the ${spanWords(dates, ordinal)}`;
    return `on ${which} of ${months || "each month"}`;
  }
  return months ? `every day in ${months}` : "";
}

/** The times of day in words ("at 09:00", "every 5 minutes", "every hour from 09:30 to 17:30"); null when unusual. */
function timesInWords(minute: string, hour: string): string | null {
  const minuteStep = isAny(minute) ? 1 : evenStep(minute, 60);
  const minutes = numbersOf(minute, 0, 59);
  if (isAny(hour)) {
    if (minuteStep !== undefined) return every(minuteStep, "minute");
    if (!minutes) return null;
    if (minutes.length === 1 && minutes[0] === 0) return "every hour";
    return `every hour at ${listWords(minutes.map((m) => `:${pad(m)}`))}`;
  }
  const hourStep = evenStep(hour, 24);
  if (hourStep !== undefined) {
    if (minutes?.length !== 1) return null;
    return minutes[0] === 0 ? every(hourStep, "hour") : `${every(hourStep, "hour")} at :${pad(minutes[0]!)}`;
  }
  const hours = numbersOf(hour, 0, 23);
  if (!hours) return null;
  const span = hours.every((h, i) => i === 0 || h === hours[i - 1]! + 1);
  const [first, last] = [hours[0]!, hours.at(-1)!];
  if (minuteStep !== undefined && span) return `${every(minuteStep, "minute")} from ${clock(first, 0)} to ${clock(last, 60 - minuteStep)}`;
  if (!minutes) return null;
  if (minutes.length * hours.length <= 6) return `at ${listWords(hours.flatMap((h) => minutes.map((m) => clock(h, m))))}`;
  if (minutes.length === 1 && span) return `every hour from ${clock(first, minutes[0]!)} to ${clock(last, minutes[0]!)}`;
  return null;
}

/** A cron expression in words, with its zone wherever the zone changes when it runs. */
export function describeCron(expression: string, timezone = "UTC"): string {
  const raw = `cron ${expression} (${timezone})`;
  let fields = (NICKNAMES.get(expression.trim().toLowerCase()) ?? expression).trim().split(/\s+/);
  let seconds: number | undefined = 0;
  if (fields.length === 6) {
    seconds = fields[0] === "0" ? 0 : isAny(fields[0]!) ? 1 : evenStep(fields[0]!, 60);
    fields = fields.slice(1);
  }
  if (fields.length !== 5 || seconds === undefined) return raw;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const days = daysInWords(dom, month, dow);
  const times = seconds === 0 ? timesInWords(minute, hour) : isAny(minute) && isAny(hour) ? every(seconds, "second") : null;
  if (days === null || times === null) return raw;
  const when = days || (times.startsWith("at ") ? "every day" : "");
  const zoned = !isAny(hour) || days !== "";
  return `${times}${when ? `, ${when}` : ""}${zoned ? ` (${timezone})` : ""}`;
}
