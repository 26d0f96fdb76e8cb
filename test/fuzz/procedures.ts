/**
 * Every procedure of the control plane (SPEC §7), its type, and a generator of its input:
 * mostly an input it accepts with a few fields made hostile, removed, or joined by prototype
 * keys and unknown fields; otherwise any hostile value at all.
 */
import fc from "fast-check";
import { appRouter } from "../../src/trpc/router.ts";
import { good, hostileString, hostileValue, mutated } from "./arbitraries.ts";

const JOB_FIELDS = [
  "name", "jobType", "userId", "runAt", "intervalMinutes", "cron", "timezone", "payload", "timeoutSeconds", "maxAttempts", "isActive",
  "catchUp", "startDeadlineSeconds", "jitterSeconds", "endsAt", "maxRuns",
];

type Input = Record<string, unknown>;

const name = fc.oneof(good.name, hostileString.filter((n) => n.trim() !== "" && n.trim().length <= 200));
const schedule: fc.Arbitrary<Input> = fc.oneof(
  fc.record({ runAt: good.instant }),
  fc.record({ intervalMinutes: good.intervalMinutes, runAt: good.instant }, { requiredKeys: ["intervalMinutes"] }),
  fc.record({ cron: good.cron, timezone: good.timezone, runAt: good.instant }, { requiredKeys: ["cron"] }),
);
const jobOptions = fc.record({
  userId: good.userId, timeoutSeconds: good.seconds, maxAttempts: good.attempts, isActive: good.boolean, payload: fc.constant(null),
  // Schedule policies valid with any schedule (jitter and ends_at depend on it: their refusals are fuzzed as hostile values).
  catchUp: fc.constantFrom("once", "skip", "all"), startDeadlineSeconds: fc.option(good.seconds), jitterSeconds: fc.constant(0), maxRuns: fc.option(good.attempts),
}, { requiredKeys: [] });
const job: fc.Arbitrary<Input> = fc.tuple(fc.record({ name, jobType: good.jobType }), schedule, jobOptions)
  .map(([base, when, options]) => ({ ...base, ...when, ...options }));
const byId = fc.record({ id: good.id });
const page = { limit: good.limit, cursor: fc.option(good.id) };
const userRef = fc.oneof(fc.record({ id: fc.integer({ min: 1, max: 4 }) }), fc.record({ email: good.email }));
// A valid password costs an argon2 hash (~0.5 s on a busy machine): rare, and the field's hostile values are invalid ones.
const password = fc.oneof(
  { weight: 30, arbitrary: fc.oneof(fc.string({ maxLength: 7 }), fc.string({ unit: "binary", maxLength: 7 }), fc.constant("x".repeat(1025)), hostileValue.filter((v) => typeof v !== "string")) },
  { weight: 1, arbitrary: good.password },
);

/** The procedures: their type, the fields of their input, and inputs they accept (`null`: no input). */
export const PROCEDURES: Record<string, { type: "query" | "mutation"; fields: string[]; valid: fc.Arbitrary<Input> | null }> = {
  "jobs.list": {
    type: "query",
    fields: ["limit", "cursor", "active", "state", "jobType", "userId", "dueBefore", "search"],
    valid: fc.record({
      ...page, active: good.boolean, state: fc.constantFrom("active", "paused", "dead", "running"), jobType: good.jobType,
      userId: good.userId, dueBefore: good.instant, search: fc.oneof(good.name, fc.constantFrom("%", "_", "\\", "' OR 1=1 --")),
    }, { requiredKeys: [] }),
  },
  "jobs.get": { type: "query", fields: ["id"], valid: byId },
  "jobs.create": { type: "mutation", fields: JOB_FIELDS, valid: job },
  "jobs.upsert": { type: "mutation", fields: JOB_FIELDS, valid: job },
  "jobs.update": {
    type: "mutation",
    fields: ["id", ...JOB_FIELDS],
    valid: fc.tuple(byId, fc.oneof(fc.constant({}), schedule), jobOptions).map(([id, when, options]) => ({ ...id, ...when, ...options })),
  },
  "jobs.delete": { type: "mutation", fields: ["id"], valid: byId },
  "jobs.pause": { type: "mutation", fields: ["id"], valid: byId },
  "jobs.resume": { type: "mutation", fields: ["id"], valid: byId },
  "jobs.runNow": { type: "mutation", fields: ["id"], valid: byId },
  "jobs.retry": { type: "mutation", fields: ["id"], valid: byId },
  "jobs.cancel": { type: "mutation", fields: ["id"], valid: byId },
  "jobs.preview": {
    type: "query",
    fields: ["runAt", "intervalMinutes", "cron", "timezone", "count"],
    valid: fc.tuple(schedule, fc.record({ count: fc.integer({ min: 1, max: 50 }) }, { requiredKeys: [] })).map(([when, options]) => ({ ...when, ...options })),
  },
  "jobs.pauseAll": { type: "mutation", fields: [], valid: null },
  "jobs.resumeAll": { type: "mutation", fields: [], valid: null },
  "jobs.pausedAll": { type: "query", fields: [], valid: null },
  "jobs.changes": {
    type: "query",
    fields: ["limit", "cursor", "jobId"],
    valid: fc.record({ ...page, jobId: good.id }, { requiredKeys: [] }),
  },
  "runs.list": {
    type: "query",
    fields: ["limit", "cursor", "jobId", "status", "from", "to"],
    valid: fc.record({ ...page, jobId: good.id, status: fc.constantFrom("succeeded", "failed", "timed_out"), from: good.instant, to: good.instant }, { requiredKeys: [] }),
  },
  "jobTypes.list": { type: "query", fields: [], valid: null },
  "dashboard.summary": { type: "query", fields: [], valid: null },
  "dashboard.runsOverview": { type: "query", fields: ["strips"], valid: fc.record({ strips: fc.integer({ min: 0, max: 50 }) }, { requiredKeys: [] }) },
  "dashboard.health": { type: "query", fields: [], valid: null },
  "dashboard.testsPage": { type: "query", fields: [], valid: null },
  "users.register": {
    type: "mutation",
    fields: ["email", "password"],
    valid: fc.tuple(fc.record({ email: fc.oneof(good.email, fc.uuid().map((u) => `${u}@example.com`)) }), fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: good.password }))
      .map(([input, pass]) => (pass === null ? input : { ...input, password: pass })),
  },
  "users.confirm": {
    type: "mutation",
    fields: ["id", "email", "token"],
    valid: fc.tuple(userRef, fc.string({ minLength: 1, maxLength: 50 })).map(([ref, token]) => ({ ...ref, token })),
  },
  "users.requestPasswordReset": { type: "mutation", fields: ["email"], valid: fc.record({ email: good.email }) },
  "users.get": { type: "query", fields: ["id", "email"], valid: userRef },
};

export const PROCEDURE_NAMES = Object.keys(PROCEDURES);

/** The router's own list of procedures: the table above must name every one. */
export function routerProcedureNames(): string[] {
  return Object.keys(appRouter._def.procedures).sort();
}

/** Inputs for `procedure`: a valid input with a few changes (`mutated`), any hostile value, or no input at all. */
export function inputOf(procedure: string): fc.Arbitrary<unknown> {
  const { fields, valid } = PROCEDURES[procedure]!;
  const changed = mutated(valid ?? fc.constant({}), fields, (field) => (field === "password" ? password : hostileValue));
  return fc.oneof({ weight: 8, arbitrary: changed }, { weight: 1, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constant(undefined) });
}
