import type { CronJobRecord } from "../../db/schema/sqlite.ts";
import type { ChangeFields } from "./store.ts";

// What the audit log (`cron_job_changes`, SPEC §2) says about a job: its fields as JSON, and of
// a change only the fields it altered. Both stores build their audit rows with these, inside the
// transaction of the change itself.

/** What defines a job: a created job's `after`, a deleted job's `before`. */
const DEFINITION = [
  "name", "jobType", "userId", "runAt", "intervalMinutes", "cron", "timezone", "payload", "timeoutSeconds", "maxAttempts",
  "isActive", "nextRunAt", "catchUp", "startDeadlineSeconds", "jitterSeconds", "endsAt", "maxRuns",
] as const satisfies readonly (keyof CronJobRecord)[];

/**
 * Where a management change may also move the job's state (retry clears the failures, resume
 * ends `finished`, cancel marks the run): shown beside the definition when they change. The
 * runner's own bookkeeping (lease, last run, run count, `updated_at`) is never a change of the log.
 */
const STATE = ["ended", "attempts", "lastError", "crashes", "cancelRequestedAt"] as const satisfies readonly (keyof CronJobRecord)[];

type AuditedField = (typeof DEFINITION)[number] | (typeof STATE)[number];

/** A field's value as JSON: times as ISO text (null for one no `Date` holds), the payload parsed. */
function jsonValue(job: CronJobRecord, field: AuditedField): unknown {
  const value = job[field];
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (field === "payload" && typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime() || (Number.isNaN(a.getTime()) && Number.isNaN(b.getTime()));
  return a === b;
}

/** A job's defining fields, as a created job's `after` or a deleted job's `before`. */
export function jobFields(job: CronJobRecord): ChangeFields {
  return Object.fromEntries(DEFINITION.map((field) => [field, jsonValue(job, field)]));
}

/** The fields a change altered, as they were and as they are; null when it altered none. */
export function jobDiff(before: CronJobRecord, after: CronJobRecord): { before: ChangeFields; after: ChangeFields } | null {
  const fields = [...DEFINITION, ...STATE].filter((field) => !same(before[field], after[field]));
  if (fields.length === 0) return null;
  return {
    before: Object.fromEntries(fields.map((field) => [field, jsonValue(before, field)])),
    after: Object.fromEntries(fields.map((field) => [field, jsonValue(after, field)])),
  };
}

/** A setting's value as JSON (`"true"` → true); text that is not JSON stays text. */
function settingValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A setting's change (`paused`: false → true); null when the value stays the same. `unset`: the value of a setting never written. */
export function settingDiff(name: string, old: string | undefined, value: string, unset: string): { before: ChangeFields; after: ChangeFields } | null {
  const was = old ?? unset;
  return was === value ? null : { before: { [name]: settingValue(was) }, after: { [name]: settingValue(value) } };
}
