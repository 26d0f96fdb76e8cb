import { TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { AppError, type AppErrorCode, type FieldErrors } from "../errors.ts";
import { describeIssues, fieldErrorsOf } from "../validation.ts";

const codeOf: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  INVALID_INPUT: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
};

export const INTERNAL_MESSAGE = "internal error (see the server log)";

function zodIssues(cause: unknown) {
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? issues : undefined;
}

/**
 * The one mapping of what procedures throw to tRPC errors: an `AppError` keeps its meaning
 * (INVALID_INPUT → BAD_REQUEST, …), a rejected input names its fields, anything else is an
 * internal error whose details stay in the server log.
 */
export function toTRPCError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof AppError) return new TRPCError({ code: codeOf[cause.code], message: cause.message, cause });
  const issues = error.code === "BAD_REQUEST" ? zodIssues(cause) : undefined;
  if (issues) return new TRPCError({ code: "BAD_REQUEST", message: describeIssues(issues), cause });
  return error;
}

/**
 * The fields at fault in a mapped error, as data for the error's `data.fieldErrors`: from an
 * `AppError`'s `fields`, or from the issues of an input tRPC itself refused. Clients read these,
 * never the message.
 */
export function fieldErrorsOfError(error: TRPCError): FieldErrors | undefined {
  const cause = error.cause;
  if (cause instanceof AppError) return cause.fields;
  const issues = error.code === "BAD_REQUEST" ? zodIssues(cause) : undefined;
  return issues ? fieldErrorsOf(issues) : undefined;
}
