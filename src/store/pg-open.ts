import { SQL } from "bun";
import { pgMigrations, type Migration } from "../../db/migrations.ts";
import { pgFailure } from "./pg-errors.ts";

export interface PgOptions {
  /** Connections in the pool (`DB_POOL_SIZE`, default 10). */
  poolSize?: number;
  /** Seconds to wait for a connection to open before the call fails with UNAVAILABLE (default 10). */
  connectTimeoutSeconds?: number;
}

/**
 * Opens a connection pool. Connections open lazily and are replaced on their own when they
 * drop (the database restarted, an administrator terminated them): a call that meets a dead
 * connection fails with UNAVAILABLE, the next one gets a fresh connection.
 */
export function openPg(url: string, options: PgOptions = {}): SQL {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  return new SQL(url, {
    // Named in the options so that PGDATABASE in the environment cannot override the URL.
    ...(database ? { database } : {}),
    max: Math.max(1, Math.trunc(options.poolSize ?? 10)),
    connectionTimeout: options.connectTimeoutSeconds ?? 10,
    // Idle connections close after a while, so a pool sized for peaks does not hold them forever.
    idleTimeout: 60,
    connection: {
      application_name: "cronjobs",
      // The triggers of cron_jobs (db/migrations/pg/0002_hand_rows.sql) tell the app's own writes
      // from other writers' by this: the app announces its changes itself and writes next_run_at
      // together with the schedule.
      "cronjobs.writer": "app",
      timezone: "UTC",
      // A statement stuck behind a stalled server fails the tick (503) instead of hanging it past its budget.
      statement_timeout: 30_000,
      idle_in_transaction_session_timeout: 60_000,
    },
  });
}

/** drizzle's own bookkeeping table, as its PostgreSQL migrator lays it out. */
const JOURNAL = `"drizzle"."__drizzle_migrations"`;

/** When the newest migration applied was made (0 when none is, or the journal cannot be read: then migrating says why). */
async function lastApplied(sql: SQL): Promise<number> {
  try {
    const [row] = await sql.unsafe<{ at: string | null }[]>(`SELECT max(created_at)::text AS at FROM ${JOURNAL}`);
    return Number(row?.at ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Applies the embedded drizzle-kit migrations not yet applied, all in one transaction under a
 * transaction-scoped advisory lock: instances starting at once queue on the lock, and each
 * one after the first finds nothing left to do. Records them where drizzle-kit's own
 * migrator does, so either tool sees the same state.
 */
export async function migratePg(sql: SQL, migrations: Migration[] = pgMigrations): Promise<string[]> {
  // Up to date already: nothing to create, so a role without CREATE (only reading the journal) can run.
  if (await lastApplied(sql) >= Math.max(...migrations.map((m) => m.when))) return [];
  try {
    return await sql.begin(async (tx) => {
      // Migrations (and waiting for another instance's) may take longer than a query may.
      await tx`SET LOCAL statement_timeout = 0`;
      await tx`SELECT pg_advisory_xact_lock(hashtext('cronjobs:migrate'))`;
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "drizzle"`);
      await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${JOURNAL} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      const [row] = await tx.unsafe<{ at: string | null }[]>(`SELECT max(created_at)::text AS at FROM ${JOURNAL}`);
      const last = Number(row?.at ?? 0);
      const applied: string[] = [];
      for (const migration of migrations) {
        if (migration.when <= last) continue;
        for (const statement of migration.sql.split("--> statement-breakpoint")) {
          if (statement.trim()) await tx.unsafe(statement);
        }
        const hash = new Bun.CryptoHasher("sha256").update(migration.sql).digest("hex");
        await tx.unsafe(`INSERT INTO ${JOURNAL} (hash, created_at) VALUES ($1, $2)`, [hash, migration.when]);
        applied.push(migration.tag);
      }
      return applied;
    });
  } catch (err) {
    throw pgFailure(err, "cannot migrate the database");
  }
}
