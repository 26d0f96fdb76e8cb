export type AppErrorCode = "NOT_FOUND" | "CONFLICT" | "INVALID_INPUT" | "UNAUTHORIZED" | "UNAVAILABLE";

/** The one error type the application raises; each transport maps `code` in one place. */
export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AppError";
  }
}

/** Message of any thrown value, for logs and history rows. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
}
