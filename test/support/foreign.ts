import { Database } from "bun:sqlite";
import type { BackendCase } from "./backends.ts";
import { onCleanup } from "./db.ts";
import { pgClient } from "./pg.ts";

/**
 * Another writer of a test's database, as the web application is: a connection of its own that
 * writes and reads plain SQL (SQLite: with a busy timeout, as README asks of such a writer).
 * Closed after the test.
 */
export interface Foreign {
  run(sql: string): Promise<void>;
  /** The names of the rows nobody has scheduled yet (`next_run_at` NULL), by id. */
  unscheduled(): Promise<string[]>;
  /** `next_run_at` of the row named `name`, in epoch ms. */
  nextRunAt(name: string): Promise<number | null>;
  /** A time as an SQL literal of this backend. */
  time(ms: number): string;
}

export function foreignWriter(backend: BackendCase["name"], databaseUrl: string): Foreign {
  if (backend === "sqlite") {
    const db = new Database(databaseUrl);
    db.run("PRAGMA busy_timeout = 5000");
    onCleanup(() => db.close());
    return {
      run: async (sql) => { db.run(sql); },
      unscheduled: async () => db.query<{ name: string }, []>("SELECT name FROM cron_jobs WHERE next_run_at IS NULL ORDER BY id").all().map((r) => r.name),
      nextRunAt: async (name) => db.query<{ at: number | null }, [string]>("SELECT next_run_at AS at FROM cron_jobs WHERE name = ?").get(name)?.at ?? null,
      time: (ms) => String(ms),
    };
  }
  const sql = pgClient(databaseUrl);
  return {
    run: async (text) => { await sql.unsafe(text); },
    unscheduled: async () => (await sql.unsafe<{ name: string }[]>("SELECT name FROM cron_jobs WHERE next_run_at IS NULL ORDER BY id")).map((r) => r.name),
    nextRunAt: async (name) => {
      const [row] = await sql.unsafe<{ at: Date | null }[]>("SELECT next_run_at AS at FROM cron_jobs WHERE name = $1", [name]);
      return row?.at ? row.at.getTime() : null;
    },
    time: (ms) => `'${new Date(ms).toISOString()}'::timestamptz`,
  };
}
