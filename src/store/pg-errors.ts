import { AppError } from "../errors.ts";

interface PgErrorLike {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  constraint?: unknown;
  detail?: unknown;
}

function find(err: unknown, pick: (e: PgErrorLike) => string | undefined): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const value = pick(e as PgErrorLike);
    if (value) return value;
  }
  return undefined;
}

/** The server's SQLSTATE ("23505"), if the server sent one. */
const sqlState = (err: unknown) => find(err, (e) => (typeof e.errno === "string" && /^[0-9A-Z]{5}$/.test(e.errno) ? e.errno : undefined));
/** Bun's own code ("ERR_POSTGRES_CONNECTION_REFUSED") or a system one ("ECONNRESET"). */
const clientCode = (err: unknown) => find(err, (e) => (typeof e.code === "string" && e.code !== "ERR_POSTGRES_SERVER_ERROR" ? e.code : undefined));

/** Client-side failures that mean "the database cannot be reached right now". */
const unreachable: Record<string, string> = {
  ERR_POSTGRES_CONNECTION_REFUSED: "connection refused (is PostgreSQL running and DATABASE_URL right?)",
  ERR_POSTGRES_CONNECTION_FAILED: "cannot connect",
  ERR_POSTGRES_CONNECTION_CLOSED: "the connection was closed (database restarting?)",
  ERR_POSTGRES_CONNECTION_TIMEOUT: "connecting timed out",
  ERR_POSTGRES_IDLE_TIMEOUT: "the connection was closed",
  ERR_POSTGRES_LIFETIME_TIMEOUT: "the connection was closed",
  ERR_POSTGRES_TLS_NOT_AVAILABLE: "the server does not offer TLS",
  ERR_POSTGRES_TLS_UPGRADE_FAILED: "TLS negotiation failed",
  ERR_POSTGRES_AUTHENTICATION_FAILED_PBKDF: "authentication failed",
  ERR_POSTGRES_SASL_SIGNATURE_MISMATCH: "authentication failed",
  ERR_POSTGRES_UNSUPPORTED_AUTHENTICATION_METHOD: "unsupported authentication method",
  ERR_POSTGRES_QUERY_CANCELLED: "the query was cancelled",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection lost",
  ENOTFOUND: "database host not found",
  EHOSTUNREACH: "database host unreachable",
};

/** SQLSTATEs (or their class) that mean the server cannot serve us now; retrying later can help. */
const unavailableStates: Record<string, string> = {
  "08": "connection failure",
  "28": "authentication failed",
  "3D000": "the database does not exist",
  "53": "the server is out of resources (too many connections, disk or memory full)",
  "57P01": "the database is shutting down or restarting (connection terminated)",
  "57P02": "the database crashed",
  "57P03": "the database is starting up",
  "57P04": "the database was dropped",
  "57014": "the query was cancelled (statement timeout)",
  "55000": "the database does not accept connections now",
  "55P03": "lock not available",
  "40001": "serialization failure (try again)",
  "40P01": "deadlock detected (try again)",
  "25006": "the server is read-only (a standby?)",
  "58": "system error on the database server",
  XX: "internal error on the database server",
};

/** What already exists, named by the unique constraint that refused the row. */
const conflicts: Record<string, string> = {
  cron_jobs_name_user_key: "a job with this name already exists for this user",
  users_email_unique: "a user with this email already exists",
};

function conflictMessage(err: unknown, context: string): string {
  const constraint = find(err, (e) => (typeof e.constraint === "string" ? e.constraint : undefined));
  return (constraint && conflicts[constraint]) ?? `${context}: the row already exists (${messageOf(err)})`;
}

/**
 * The server's own words ("null value in column … violates not-null constraint"), never the
 * ORM's wrapper, whose message repeats the whole statement and its parameters.
 */
function messageOf(err: unknown): string {
  const own = find(err, (e) => (typeof e.errno === "string" && /^[0-9A-Z]{5}$/.test(e.errno) && typeof e.message === "string" ? e.message : undefined));
  if (own) return own;
  let innermost = err;
  for (let depth = 0; depth < 5 && (innermost as { cause?: unknown })?.cause; depth++) innermost = (innermost as { cause: unknown }).cause;
  const text = innermost instanceof Error ? innermost.message : String(innermost);
  return text.startsWith("Failed query:") ? "the statement failed" : text;
}

/**
 * Maps a PostgreSQL (or Bun SQL client) error to an `AppError`: unique violations are
 * CONFLICT, other integrity and data violations INVALID_INPUT, and a database that cannot be
 * reached or is restarting UNAVAILABLE with a message naming the cause.
 */
export function pgFailure(err: unknown, context: string): Error {
  if (err instanceof AppError) return err;
  const state = sqlState(err);
  if (state === "23505") return new AppError("CONFLICT", conflictMessage(err, context), { cause: err });
  if (state && (state.startsWith("23") || state.startsWith("22"))) {
    return new AppError("INVALID_INPUT", `rejected by the database: ${messageOf(err)}`, { cause: err });
  }
  if (state) {
    const reason = unavailableStates[state] ?? unavailableStates[state.slice(0, 2)];
    if (reason) return new AppError("UNAVAILABLE", `${context}: database unavailable: ${reason} (${messageOf(err)})`, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
  }
  const code = clientCode(err);
  const reason = code ? unreachable[code] : undefined;
  if (reason) return new AppError("UNAVAILABLE", `${context}: database unavailable: ${reason}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
