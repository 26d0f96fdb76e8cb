/**
 * A job's schedule in words ("every 5 minutes", "at 03:00 Europe/Berlin", "once at …").
 * Pure: the time zone and locale of the absolute times are passed in.
 */

/** The schedule columns of a job, as the control plane answers them. */
export interface ScheduleColumns {
  runAt: string | null;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string | null;
}

export interface WordsOptions {
  /** Zone of absolute times ("once at …"); default: the runtime's. */
  timeZone?: string | undefined;
  locale?: string | undefined;
  /** When given, a time in the same year as `now` is written without its year. */
  now?: number | undefined;
}

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAY_ALIASES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_ALIASES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

const NICKNAMES: Record<string, string> = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};

export function scheduleInWords(job: ScheduleColumns, options: WordsOptions = {}): string {
  if (job.cron !== null) return cronInWords(job.cron, job.timezone ?? "UTC");
  if (job.intervalMinutes !== null) return intervalInWords(job.intervalMinutes);
  if (job.runAt !== null) return `once at ${formatDateTime(Date.parse(job.runAt), options)}`;
  return "no schedule";
}

const plural = (n: number, unit: string) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);

export function intervalInWords(minutes: number): string {
  if (minutes % 10_080 === 0) return plural(minutes / 10_080, "week");
  if (minutes % 1440 === 0) return plural(minutes / 1440, "day");
  if (minutes % 60 === 0) return plural(minutes / 60, "hour");
  return plural(minutes, "minute");
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
export function formatDateTime(ms: number, { timeZone, locale, now }: WordsOptions = {}): string {
  const year = formatter("en-US", { year: "numeric", timeZone });
  const sameYear = now !== undefined && year.format(ms) === year.format(now);
  return formatter(locale, {
    year: sameYear ? undefined : "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone,
  }).format(ms);
}

/** A list in words: "a", "a and b", "a, b and c". */
function listWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

const pad = (n: number) => String(n).padStart(2, "0");
const ordinal = (n: number) => `${n}${n % 10 === 1 && n !== 11 ? "st" : n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th"}`;

/** The numbers a cron field lists ("1,15", "1-5", "MON-FRI"); null for steps or anything unusual. */
function numbersOf(field: string, aliases: string[] = [], max = 59): number[] | null {
  const value = (part: string) => {
    const alias = aliases.indexOf(part.toUpperCase());
    if (alias >= 0) return alias + (aliases === MONTH_ALIASES ? 1 : 0);
    return /^\d+$/.test(part) ? Number(part) : NaN;
  };
  const out: number[] = [];
  for (const part of field.split(",")) {
    const [from, to, ...rest] = part.split("-");
    const a = value(from ?? "");
    const b = to === undefined ? a : value(to);
    if (rest.length > 0 || !Number.isInteger(a) || !Number.isInteger(b) || a > b || b > max) return null;
    for (let n = a; n <= b; n++) out.push(n);
  }
  return out;
}

const isAny = (field: string) => field === "*" || field === "?";
const stepOf = (field: string) => /^(?:\*|0)\/(\d+)$/.exec(field)?.[1];

function daysInWords(dom: string, month: string, dow: string): string | null {
  if (isAny(dom) && isAny(month) && isAny(dow)) return "";
  if (isAny(dom) && isAny(month)) {
    const days = numbersOf(dow, DAY_ALIASES, 7)?.map((d) => d % 7);
    if (!days) return null;
    const set = [...new Set(days)].sort((a, b) => a - b);
    if (set.join() === "1,2,3,4,5") return "on weekdays";
    if (set.join() === "0,6") return "on weekends";
    if (set.length === 7) return "";
    return `on ${listWords(set.map((d) => DAY_NAMES[d]!))}`;
  }
  if (!isAny(dow)) return null;
  const dates = numbersOf(dom, [], 31);
  if (!dates || dates.includes(0)) return null;
  if (isAny(month)) return `on the ${listWords(dates.map(ordinal))} of each month`;
  const months = numbersOf(month, MONTH_ALIASES, 12);
  if (!months || months.includes(0)) return null;
  return `on ${listWords(dates.map(String))} ${listWords(months.map((m) => MONTH_NAMES[m - 1]!))}`;
}

/** Common cron expressions in words; anything else as the expression itself with its zone. */
export function cronInWords(expression: string, timezone = "UTC"): string {
  const raw = `cron ${expression} (${timezone})`;
  let fields = (NICKNAMES[expression.trim().toLowerCase()] ?? expression).trim().split(/\s+/);
  if (fields.length === 6) {
    if (fields[0] !== "0") return raw;
    fields = fields.slice(1);
  }
  if (fields.length !== 5) return raw;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const everyDay = isAny(dom) && isAny(month) && isAny(dow);
  const minuteStep = stepOf(minute);
  if (everyDay && isAny(hour) && isAny(minute)) return "every minute";
  if (everyDay && isAny(hour) && minuteStep) return plural(Number(minuteStep), "minute");
  const minutes = numbersOf(minute);
  const hourStep = stepOf(hour);
  if (everyDay && minutes?.length === 1 && (isAny(hour) || hourStep)) {
    const every = plural(Number(hourStep ?? 1), "hour");
    return minutes[0] === 0 ? every : `${every} at :${pad(minutes[0]!)}`;
  }
  const hours = numbersOf(hour, [], 23);
  const days = daysInWords(dom, month, dow);
  if (!minutes || !hours || days === null || minutes.length * hours.length > 6) return raw;
  const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
  return `at ${listWords(times)} ${timezone}${days ? ` ${days}` : ""}`;
}
