import type { SQL } from "bun";
import { faketimeAvailable, startServer, waitUntil, type ServerProcess } from "./server-process.ts";
import { CLAIM_EARLY_MS } from "../../src/runner/runner.ts";

export { faketimeAvailable };

/** One `app serve` process, as an operator runs it on one host (a server process of the one kind tests start). */
export type Instance = ServerProcess;

export interface InstanceOptions {
  /** Runs the process under Debian's libfaketime with this offset (e.g. "+5m"): its wall clock is off by that much. */
  faketime?: string;
  env?: Record<string, string>;
}

/** Starts `app serve` on `databaseUrl` (2 s shutdown grace, 5 connections) and waits until it listens; killed after the test. */
export function startInstance(databaseUrl: string, options: InstanceOptions = {}): Promise<Instance> {
  return startServer({
    databaseUrl, entry: "app", args: ["--shutdown-grace", "2"], faketime: options.faketime, env: { DB_POOL_SIZE: "5", ...options.env },
  });
}

/**
 * Audit tables filled by triggers in the test database, on the database's clock: every claim
 * (with the lease it took over and the time the job was due) and every history row written.
 * They let a test check "never early" and "never while a lease was live" exactly; `by_role`
 * tells which instance claimed when instances connect as different roles.
 */
export async function installAudit(sql: SQL): Promise<void> {
  await sql.unsafe(`
    CREATE TABLE claim_audit (job_id bigint, due_at timestamptz, prev_locked_by text, prev_locked_until timestamptz,
      locked_by text, locked_until timestamptz, at timestamptz NOT NULL DEFAULT clock_timestamp(),
      by_role text NOT NULL DEFAULT session_user);
    CREATE FUNCTION audit_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.locked_by IS NOT NULL AND NEW.locked_by IS DISTINCT FROM OLD.locked_by THEN
        INSERT INTO claim_audit (job_id, due_at, prev_locked_by, prev_locked_until, locked_by, locked_until)
        VALUES (NEW.id, OLD.next_run_at, OLD.locked_by, OLD.locked_until, NEW.locked_by, NEW.locked_until);
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER audit_claim AFTER UPDATE ON cron_jobs FOR EACH ROW EXECUTE FUNCTION audit_claim();
  `);
}

/**
 * What must never happen: a run that started before its job was due, a claim more than
 * `CLAIM_EARLY_MS` before it (the server's timer claims a slot's jobs that much early, and starts
 * them at their time), a claim of a lease still live.
 */
export async function auditViolations(sql: SQL): Promise<{ early: unknown[]; stolen: unknown[] }> {
  // A host measures its offset to the database clock to within a fraction of a round trip: 5 ms of slack.
  const early = await sql`SELECT job_id, due_at, at FROM claim_audit WHERE at < due_at - ${CLAIM_EARLY_MS + 5} * interval '1 ms'
    UNION ALL SELECT job_id, scheduled_for, started_at FROM cron_job_runs WHERE started_at < scheduled_for - interval '5 ms'`;
  const stolen = await sql`SELECT job_id, prev_locked_until, at FROM claim_audit
    WHERE prev_locked_by IS NOT NULL AND at < prev_locked_until - interval '5 ms'`;
  return { early: [...early], stolen: [...stolen] };
}

/** Tells every instance listening on the database that jobs changed (what the store does after a change). */
export async function notifyChanged(sql: SQL): Promise<void> {
  await sql`SELECT pg_notify('cronjobs_changed', '')`;
}

/** Polls `check` every `everyMs` until it answers true or `timeoutMs` passes (`waitUntil`). */
export const waitFor = waitUntil;

/** The database server's time, in ms since the epoch. */
export async function dbNow(sql: SQL): Promise<number> {
  const [row] = await sql`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`;
  return Math.floor(Number(row.ms));
}

/** Inserts `count` one-time noop jobs due at `dueAt` (and optionally recurring ones), in one statement each. */
export async function insertJobs(sql: SQL, { prefix, count, dueAt, timeoutSeconds = 60, recurring = 0 }: {
  prefix: string; count: number; dueAt: number; timeoutSeconds?: number; recurring?: number;
}): Promise<void> {
  const at = new Date(dueAt).toISOString();
  await sql.unsafe(`INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, timeout_seconds)
    SELECT $1 || i, 'noop', $2::timestamptz, $2::timestamptz, $3 FROM generate_series(1, $4) AS i`, [`${prefix}-`, at, timeoutSeconds, count]);
  if (recurring > 0) {
    await sql.unsafe(`INSERT INTO cron_jobs (name, job_type, run_at, interval_minutes, next_run_at, timeout_seconds)
      SELECT $1 || i, 'noop', $2::timestamptz, 60, $2::timestamptz, $3 FROM generate_series(1, $4) AS i`, [`${prefix}-every-`, at, timeoutSeconds, recurring]);
  }
}
