/** Pure formatting of times and durations for the dashboard (the caller passes "now"). */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "in 5 min", "3 h ago", "just now": short, and never "60 s". */
export function relativeTime(at: number, now: number): string {
  const diff = at - now;
  const abs = Math.abs(diff);
  if (abs < 5 * SECOND) return diff <= 0 ? "just now" : "in a moment";
  let text: string;
  if (abs < MINUTE) text = `${Math.floor(abs / SECOND)} s`;
  else if (abs < HOUR) text = `${Math.floor(abs / MINUTE)} min`;
  else if (abs < 2 * DAY) text = `${Math.floor(abs / HOUR)} h`;
  else if (abs < 730 * DAY) text = `${Math.floor(abs / DAY)} days`;
  else text = `${Math.floor(abs / (365 * DAY))} years`;
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** "12 ms", "1.5 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(ms: number): string {
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) return `${(ms / SECOND).toFixed(ms < 10 * SECOND ? 1 : 0)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ${Math.floor((ms % MINUTE) / SECOND)} s`;
  return `${Math.floor(ms / HOUR)} h ${Math.floor((ms % HOUR) / MINUTE)} min`;
}

/** "2026-01-05 12:00:00 UTC", for title attributes. */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export interface DateTimeOptions {
  /** Zone of the time; default: the browser's. */
  timeZone?: string | undefined;
  locale?: string | undefined;
  /** When given, a time in the same year as `now` is written without its year. */
  now?: number | undefined;
  /** Begin with the day of the week ("Mon, 5 Jan, 13:00"). */
  weekday?: boolean | undefined;
}

// Making a formatter costs far more than using one: keep them (a handful of zones and locales).
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

/** "5 Jan 2026, 13:00" in the given zone and locale (24-hour clock); "5 Jan, 13:00" in the year of `now`. */
export function formatDateTime(ms: number, { timeZone, locale, now, weekday }: DateTimeOptions = {}): string {
  const year = formatter("en-US", { year: "numeric", timeZone });
  const sameYear = now !== undefined && year.format(ms) === year.format(now);
  return formatter(locale, {
    weekday: weekday ? "short" : undefined, year: sameYear ? undefined : "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone,
  }).format(ms);
}

const counts = new Intl.NumberFormat("en-US");

/** A number with thousands separators, in English. */
export const formatCount = (n: number) => counts.format(n);

/** "1 job", "3 jobs". */
export const countOf = (n: number, noun: string) => `${formatCount(n)} ${noun}${n === 1 ? "" : "s"}`;
