import type { z } from "zod";
import { AppError, type FieldErrors } from "./errors.ts";

/** The field an issue is about, as a dotted path (`payload.url`); `input` for the whole value. */
function fieldOf(issue: z.core.$ZodIssue): string {
  if (issue.path.length > 0) return issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") return issue.keys.join(", ");
  return "input";
}

const messageOf = (issue: z.core.$ZodIssue) => (issue.code === "unrecognized_keys" ? "unknown field" : issue.message);

/** One line naming each field at fault: `runAt: not a date; cron: …`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${fieldOf(issue)}: ${messageOf(issue)}`).join("; ");
}

/** The same issues as data: messages by field. */
export function fieldErrorsOf(issues: readonly z.core.$ZodIssue[]): FieldErrors {
  // No prototype: a field may be called anything, `__proto__` and `constructor` included.
  const fields: FieldErrors = Object.create(null);
  for (const issue of issues) (fields[fieldOf(issue)] ??= []).push(messageOf(issue));
  return fields;
}

/** Parses `value` or throws `AppError("INVALID_INPUT")` whose message and `fields` name the fields. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new AppError("INVALID_INPUT", describeIssues(parsed.error.issues), { cause: parsed.error, fields: fieldErrorsOf(parsed.error.issues) });
  }
  return parsed.data;
}

/**
 * Text that every backend stores as given: well-formed Unicode (a lone surrogate would come
 * back as U+FFFD, and two different names would become one) and no NUL (PostgreSQL refuses it).
 */
export function storableText<S extends z.ZodString>(schema: S): S {
  return schema
    .refine((value) => value.isWellFormed(), "must be valid Unicode text (it has a lone surrogate)")
    .refine((value) => !value.includes("\u0000"), "must not contain NUL characters") as S;
}
