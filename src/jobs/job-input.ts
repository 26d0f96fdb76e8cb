import { z } from "zod";
import { invalidField } from "../errors.ts";
import { checkTimezone, scheduleOf, ScheduleError, type ScheduleFields } from "../schedule/schedule.ts";
import { shortestGapMs } from "../schedule/slots.ts";
import { CONTROL_CHARS } from "../text/escape.ts";
import { storableText } from "../validation.ts";
import type { JobRegistry } from "./registry.ts";
import type { JobValues } from "../store/store.ts";

const MAX_PAYLOAD_BYTES = 64 * 1024;

/** How long a policy may be in seconds (start deadline, jitter): 30 days. */
const MAX_POLICY_SECONDS = 2_592_000;

/** `catch_up` values (SPEC §5.3.1). */
export const CATCH_UP_POLICIES = ["once", "skip", "all"] as const;
const MAX_PAYLOAD_DEPTH = 64;

const DATE_ERROR = "not a date (give an ISO 8601 time with its offset, e.g. 2026-01-05T12:00:00Z)";

/** A time: an ISO 8601 string with an offset (over JSON) or a `Date` (in process). */
export const instantField = z.union([z.iso.datetime({ offset: true, error: DATE_ERROR }), z.date({ error: DATE_ERROR })], { error: DATE_ERROR })
  .transform((value) => new Date(value))
  // Years 1 to 9999 (UTC), what both backends store: PostgreSQL has no year 0 and reads no ISO years past 9999.
  .refine((date) => date.getUTCFullYear() >= 1 && date.getUTCFullYear() <= 9999, "must be between the years 0001 and 9999 (UTC)");

/** Whether `value` nests at most `max` levels of arrays and objects; counted without recursion. */
function nestedWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth >= max) return false;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}

/**
 * Any JSON value. Its depth is checked first, without recursion: `z.json()` recurses, and a
 * deeply nested value would overflow the stack instead of being refused by name. Typed as
 * `z.json()` is, so that clients still see the JSON type as the payload's input.
 */
const payloadField = z.unknown()
  .refine((value) => nestedWithin(value, MAX_PAYLOAD_DEPTH), `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`)
  .pipe(z.json("must be a JSON value")) as unknown as ReturnType<typeof z.json>;

const text = (max: number) => storableText(z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`));

/**
 * The one definition of a job's input, field by field. Every other shape derives from it:
 * create and upsert take it as is, update takes it partial, and `jobSchema` checks a
 * complete job as a whole (schedule, job type, payload).
 */
export const jobFields = z.strictObject({
  /** Identifies the job; `(name, userId)` is unique. */
  // NUL is a control character too, refused once by `storableText` already.
  name: text(200).refine((value) => value.includes("\u0000") || !CONTROL_CHARS.test(value), "must not contain control characters (newline, tab, ESC, DEL, C1)"),
  /** Registry key of the code that runs it; defaults to `name`. */
  jobType: text(200).optional(),
  userId: z.int("must be a whole number").positive("must be a user id (≥ 1)").nullable().optional(),
  /** One-time schedule, or the first run of a recurring one. */
  runAt: instantField.nullable().optional(),
  intervalMinutes: z.number("must be a number").int("must be a whole number of minutes").min(1, "must be at least 1")
    .max(5_256_000, "must be at most 10 years").nullable().optional(),
  cron: text(200).nullable().optional(),
  /** IANA zone of `cron` (default UTC). */
  timezone: text(100).nullable().optional(),
  /** JSON given to the job; checked against the job type's payload schema. */
  payload: payloadField.optional(),
  timeoutSeconds: z.int("must be a whole number of seconds").min(1, "must be at least 1").max(86_400, "must be at most 86400 (one day)").optional(),
  maxAttempts: z.int("must be a whole number").min(1, "must be at least 1").max(1000, "must be at most 1000").optional(),
  isActive: z.boolean("must be true or false").optional(),
  /** Slots missed while nothing ran: `once` (default) runs one, `skip` none, `all` each (at most 100). */
  catchUp: z.enum(CATCH_UP_POLICIES, `must be one of ${CATCH_UP_POLICIES.join(", ")}`).optional(),
  /** A run that would start later than its planned time plus this is not started (`skipped`). */
  startDeadlineSeconds: z.int("must be a whole number of seconds").min(1, "must be at least 1")
    .max(MAX_POLICY_SECONDS, `must be at most ${MAX_POLICY_SECONDS} (30 days)`).nullable().optional(),
  /** Each slot moves later by an offset in [0, jitterSeconds), fixed by the job's id and the slot. */
  jitterSeconds: z.int("must be a whole number of seconds").min(0, "must be at least 0")
    .max(MAX_POLICY_SECONDS, `must be at most ${MAX_POLICY_SECONDS} (30 days)`).optional(),
  /** No run starts at or after this time; the job is then finished. */
  endsAt: instantField.nullable().optional(),
  /** The job is finished once this many runs (any status) have finished. */
  maxRuns: z.int("must be a whole number").min(1, "must be at least 1").nullable().optional(),
});


/** What callers send to create or upsert a job. */
export type JobInput = z.input<typeof jobFields>;
/** What callers send to change some fields of a job. */
export const jobPatchFields = jobFields.partial();
export type JobPatch = z.input<typeof jobPatchFields>;

/**
 * A patch that leaves a job without cron also drops its time zone (unless it names one, which
 * is then refused): only a cron schedule has a zone.
 */
export function withoutStrayTimezone<P extends JobPatch>(patch: P): P {
  return patch.cron === null && !("timezone" in patch) ? { ...patch, timezone: null } : patch;
}

/** A complete job: every field resolved, defaults applied; the payload still a value, not JSON text. */
export type JobSpec = Required<Omit<JobValues, "payload" | "nextRunAt">> & { payload: unknown };

/** The same defaults as the table's, for a job created through the API. */
export const JOB_DEFAULTS = { timeoutSeconds: 60, maxAttempts: 5, isActive: true, catchUp: "once", jitterSeconds: 0 } as const;

function complete(job: z.output<typeof jobFields>): JobSpec {
  return {
    name: job.name,
    jobType: job.jobType ?? job.name,
    userId: job.userId ?? null,
    runAt: job.runAt ?? null,
    intervalMinutes: job.intervalMinutes ?? null,
    cron: job.cron ?? null,
    timezone: job.timezone ?? null,
    payload: job.payload ?? null,
    timeoutSeconds: job.timeoutSeconds ?? JOB_DEFAULTS.timeoutSeconds,
    maxAttempts: job.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    isActive: job.isActive ?? JOB_DEFAULTS.isActive,
    catchUp: job.catchUp ?? JOB_DEFAULTS.catchUp,
    startDeadlineSeconds: job.startDeadlineSeconds ?? null,
    jitterSeconds: job.jitterSeconds ?? JOB_DEFAULTS.jitterSeconds,
    endsAt: job.endsAt ?? null,
    maxRuns: job.maxRuns ?? null,
  };
}

/** The checks that need the whole job: its type is registered, its schedule and payload usable. */
function checkJob(registry: JobRegistry) {
  return (job: JobSpec, ctx: z.RefinementCtx) => {
    const type = registry.get(job.jobType);
    if (!type) {
      const known = registry.list().map((t) => t.type).join(", ");
      ctx.addIssue({ code: "custom", path: ["jobType"], message: `unknown job type "${job.jobType}" (known: ${known})` });
    }
    if (job.timezone !== null && job.cron === null) {
      ctx.addIssue({ code: "custom", path: ["timezone"], message: "only a cron schedule has a time zone (give cron, or leave timezone out)" });
    }
    addScheduleIssues(job, ctx);
    addJitterIssues(job, ctx);
    if (JSON.stringify(job.payload).length > MAX_PAYLOAD_BYTES) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: `larger than ${MAX_PAYLOAD_BYTES / 1024} KiB` });
    } else if (type?.payloadSchema) {
      const parsed = type.payloadSchema.safeParse(job.payload);
      for (const issue of parsed.error?.issues ?? []) {
        ctx.addIssue({ code: "custom", path: ["payload", ...issue.path], message: issue.message });
      }
    } else if (type && job.payload !== null) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: `job type "${type.type}" takes no payload` });
    }
  };
}

/**
 * The whole-job check also reads stored rows back (update, resume, retry): a name written by
 * hand with control characters keeps working there. Input is refused at `jobFields`.
 */
const storedJobFields = jobFields.extend({ name: text(200) });

const schemas = new WeakMap<JobRegistry, z.ZodType<JobSpec, JobInput>>();

/** A complete job against `registry`: the fields, their defaults, then the whole-job checks. */
export function jobSchema(registry: JobRegistry): z.ZodType<JobSpec, JobInput> {
  let schema = schemas.get(registry);
  if (!schema) {
    schema = storedJobFields.transform(complete).superRefine(checkJob(registry));
    schemas.set(registry, schema);
  }
  return schema;
}

/** Adds an issue naming the field at fault when `schedule` cannot be used (a bad cron, zone, interval or time). */
export function addScheduleIssues(schedule: ScheduleFields, ctx: z.RefinementCtx): void {
  try {
    scheduleOf(schedule);
    if (schedule.timezone !== null) checkTimezone(schedule.timezone);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    ctx.addIssue({ code: "custom", path: [err.field], message: err.message.replace(`${err.field}: `, "") });
  }
}

/** Jitter must not move a slot past the next one: at most the interval, or the shortest gap between two cron matches. */
function addJitterIssues(job: JobSpec, ctx: z.RefinementCtx): void {
  if (job.jitterSeconds === 0) return;
  let schedule;
  try {
    schedule = scheduleOf(job);
  } catch {
    return; // named by addScheduleIssues
  }
  const gap = shortestGapMs(schedule, schedule.kind === "once" ? 0 : schedule.startAt ?? 0);
  if (gap !== null && job.jitterSeconds * 1000 > gap) {
    const what = schedule.kind === "interval" ? "the interval" : "the shortest gap between two slots";
    ctx.addIssue({ code: "custom", path: ["jitterSeconds"], message: `must not be longer than ${what} (${gap / 1000} s)` });
  }
}

/**
 * The policy check that needs the job's first run: `ends_at` must come after it (a job that
 * could never run is refused, not created finished). Throws `INVALID_INPUT` naming the field.
 */
export function checkEndsAt(spec: Pick<JobSpec, "endsAt">, firstSlot: number): void {
  if (spec.endsAt !== null && spec.endsAt.getTime() <= firstSlot) {
    throw invalidField("endsAt", `must be after the first run (${new Date(firstSlot).toISOString()})`);
  }
}
