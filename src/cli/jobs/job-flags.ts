import { systemClock } from "../../clock.ts";
import { AppError } from "../../errors.ts";

/** The flags of `add` and `update`, each a field of the job input. */
export const jobFlags = {
  type: { type: "string", description: "job type (registry key; default: the name)" },
  user: { type: "string", description: "user id the job is for (`none`: no user)" },
  "run-at": { type: "string", description: "when it runs (once), or first runs: ISO time, or +30s, +5m, +2h, +1d from now (`none` clears)" },
  every: { type: "string", description: "run every N minutes (`none` clears)" },
  cron: { type: "string", description: "cron expression, e.g. \"0 9 * * 1-5\" (`none` clears)" },
  tz: { type: "string", description: "IANA time zone of --cron (default UTC; only for cron schedules)" },
  payload: { type: "string", description: "JSON payload given to the job (`null` clears)" },
  timeout: { type: "string", description: "seconds a run may take (default 60)" },
  "max-attempts": { type: "string", description: "attempts of a one-time job before it is dead (default 5)" },
  "catch-up": { type: "string", description: "slots missed while nothing ran: once (default, one run), skip (none), all (each, at most 100)" },
  "start-deadline": { type: "string", description: "seconds late a run may still start; later it is skipped (`none` clears)" },
  jitter: { type: "string", description: "move each slot later by up to N seconds, fixed per job and slot (0: none)" },
  "ends-at": { type: "string", description: "no run at or after this time, then the job is finished: ISO time or +1d (`none` clears)" },
  "max-runs": { type: "string", description: "the job is finished after N runs (`none` clears)" },
} as const;

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A number as a number; anything else is sent as given, for the server to reject with the field's name. */
const numeric = (value: string): unknown => (/^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value);
const clearable = (value: string, parse: (v: string) => unknown) => (value === "none" ? null : parse(value));

/** An ISO time, or `+30s`/`+5m`/`+2h`/`+1d` from now; anything else is sent as given. */
export function when(value: string): unknown {
  const relative = /^\+(\d+)([smhd])$/.exec(value.trim());
  return relative ? new Date(systemClock.now() + Number(relative[1]) * UNITS[relative[2]!]!).toISOString() : value;
}

/** The job fields given on the command line (absent flags stay absent, so `update` changes only those). */
export function jobInputFromFlags(args: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const flag = (name: keyof typeof jobFlags) => (typeof args[name] === "string" ? (args[name] as string) : undefined);
  const set = (field: string, value: unknown) => { if (value !== undefined) input[field] = value; };
  set("jobType", flag("type"));
  set("userId", flag("user") === undefined ? undefined : clearable(flag("user")!, numeric));
  set("runAt", flag("run-at") === undefined ? undefined : clearable(flag("run-at")!, when));
  set("intervalMinutes", flag("every") === undefined ? undefined : clearable(flag("every")!, numeric));
  set("cron", flag("cron") === undefined ? undefined : clearable(flag("cron")!, (v) => v));
  set("timezone", flag("tz") === undefined ? undefined : clearable(flag("tz")!, (v) => v));
  set("timeoutSeconds", flag("timeout") === undefined ? undefined : numeric(flag("timeout")!));
  set("maxAttempts", flag("max-attempts") === undefined ? undefined : numeric(flag("max-attempts")!));
  set("catchUp", flag("catch-up"));
  set("startDeadlineSeconds", flag("start-deadline") === undefined ? undefined : clearable(flag("start-deadline")!, numeric));
  set("jitterSeconds", flag("jitter") === undefined ? undefined : numeric(flag("jitter")!));
  set("endsAt", flag("ends-at") === undefined ? undefined : clearable(flag("ends-at")!, when));
  set("maxRuns", flag("max-runs") === undefined ? undefined : clearable(flag("max-runs")!, numeric));
  const payload = flag("payload");
  if (payload !== undefined) {
    try {
      input.payload = JSON.parse(payload);
    } catch {
      throw new AppError("INVALID_INPUT", "--payload: not valid JSON");
    }
  }
  return input;
}

/**
 * For `update`: a new `--cron` replaces the job's interval and a new `--every` its cron, so
 * switching needs no `--every none`/`--cron none` (the server then drops a cron's zone).
 */
export function switchSchedule(input: Record<string, unknown>): Record<string, unknown> {
  const next = { ...input };
  if (input.cron != null && !("intervalMinutes" in input)) next.intervalMinutes = null;
  if (input.intervalMinutes != null && !("cron" in input)) next.cron = null;
  return next;
}

/** A job id argument; a wrong one is a usage error. */
export function jobId(value: unknown): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id < 1) throw new AppError("INVALID_INPUT", `not a job id: ${String(value)}`);
  return id;
}

/** The `--limit`/`--cursor` flags of a paged list. */
export function pageFlags(noun: string) {
  return {
    limit: { type: "string", description: `${noun} per page (default 50)` },
    cursor: { type: "string", description: "the page after this cursor (printed under a full page)" },
  } as const;
}

/** `--limit`/`--cursor` as a list's input (the server checks their range). */
export function pageOf(args: { limit?: string; cursor?: string }): { limit?: number; cursor?: number } {
  return {
    limit: args.limit === undefined ? undefined : Number(args.limit),
    cursor: args.cursor === undefined ? undefined : Number(args.cursor),
  };
}
