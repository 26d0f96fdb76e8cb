import { AppError, type AppErrorCode } from "../errors.ts";

const statusOf: Record<AppErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
};

/** A JSON error answer, for AppError codes and the HTTP-only ones alike (405, 413). */
export function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

/** The one mapping of thrown values to HTTP answers; never leaks a stack trace. */
export function responseForError(err: unknown): Response {
  if (err instanceof AppError) return errorResponse(statusOf[err.code], err.code, err.message);
  return errorResponse(500, "INTERNAL", "internal error (see the server log)");
}
