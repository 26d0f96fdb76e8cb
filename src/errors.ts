export type AppErrorCode = "NOT_FOUND" | "CONFLICT" | "INVALID_INPUT" | "UNAUTHORIZED" | "UNAVAILABLE";

/** Messages by input field (a dotted path such as `payload.url`), for clients that show them beside the fields. */
export type FieldErrors = Record<string, string[]>;

/** The one error type the application raises; each transport maps `code` in one place. */
export class AppError extends Error {
  /** The input fields at fault, when the error is about some (`INVALID_INPUT`). */
  readonly fields: FieldErrors | undefined;

  constructor(
    readonly code: AppErrorCode,
    message: string,
    options?: { cause?: unknown; fields?: FieldErrors },
  ) {
    super(message, options);
    this.name = "AppError";
    this.fields = options?.fields;
  }
}

/** `INVALID_INPUT` about one field: the message names it, and `fields` carries it as data. */
export function invalidField(field: string, message: string, options?: { cause?: unknown }): AppError {
  return new AppError("INVALID_INPUT", `${field}: ${message}`, { ...options, fields: { [field]: [message] } });
}

/** Message of any thrown value, for logs and history rows. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
}
