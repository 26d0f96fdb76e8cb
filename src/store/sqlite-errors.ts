import { AppError } from "../errors.ts";

function sqliteCode(err: unknown): string | undefined {
  for (let e = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  }
  return undefined;
}

/** True when `err` is SQLite's "the database is locked by another connection" (any SQLITE_BUSY variant). */
export function isBusy(err: unknown): boolean {
  return sqliteCode(err)?.startsWith("SQLITE_BUSY") ?? false;
}

const unavailable: Record<string, string> = {
  SQLITE_BUSY: "database is locked by another process (busy timeout passed)",
  SQLITE_LOCKED: "database table is locked",
  SQLITE_FULL: "database or disk is full",
  SQLITE_READONLY: "database is read-only",
  SQLITE_IOERR: "disk I/O error",
  SQLITE_CANTOPEN: "unable to open the database file",
  SQLITE_CORRUPT: "database file is corrupt",
  SQLITE_NOTADB: "file is not a database",
  SQLITE_PERM: "no permission to access the database",
};

/**
 * Maps a SQLite error to an `AppError`: unique violations are CONFLICT, other constraint
 * violations INVALID_INPUT, and a database that cannot be used UNAVAILABLE.
 */
export function sqliteFailure(err: unknown, context: string): Error {
  if (err instanceof AppError) return err;
  const code = sqliteCode(err);
  if (!code) return err instanceof Error ? err : new Error(String(err));
  const base = code.split("_").slice(0, 2).join("_"); // SQLITE_IOERR_WRITE → SQLITE_IOERR
  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    return new AppError("CONFLICT", "a job with this name already exists for this user", { cause: err });
  }
  if (code.startsWith("SQLITE_CONSTRAINT")) {
    return new AppError("INVALID_INPUT", `rejected by the database: ${(err as Error).message}`, { cause: err });
  }
  const reason = unavailable[code] ?? unavailable[base];
  if (reason) return new AppError("UNAVAILABLE", `${context}: ${reason}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
