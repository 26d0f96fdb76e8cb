/**
 * A fresh database for the fuzzer on either backend, with what the fuzzer needs beside the
 * store: a canonical dump of every row (to prove a refused request changed nothing) and a way
 * to write a row by hand, as the web application may.
 */
import type { Database } from "bun:sqlite";
import type { Store } from "../../src/store/store.ts";
import { postgresBackend } from "../support/backends.ts";
import { freshStore } from "../support/db.ts";
import { pgClient } from "../support/pg.ts";

export type Backend = "sqlite" | "postgres";

export interface FuzzDatabase {
  store: Store;
  /** Every table's rows, ordered by primary key, as text. */
  dump(): Promise<string>;
  /** Runs one statement outside the store (`$1`, `$2`… or `?` placeholders, by backend). */
  write(statement: { sqlite: string; postgres: string }, params: unknown[]): Promise<void>;
}

export async function openDatabase(backend: Backend): Promise<FuzzDatabase> {
  if (backend === "sqlite") {
    const { store } = freshStore();
    return {
      store,
      dump: async () => dumpSqlite(store.client),
      write: async (statement, params) => { store.client.run(statement.sqlite, params as never); },
    };
  }
  const { store, databaseUrl } = await postgresBackend.open();
  const client = pgClient(databaseUrl);
  return {
    store,
    dump: () => dumpPostgres(client),
    write: async (statement, params) => { await client.unsafe(statement.postgres, params); },
  };
}

/** SQLite: the schema, then every row (sqlite_sequence too), each value as its SQL literal. */
export function dumpSqlite(db: Database): string {
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const lines: string[] = [`user_version=${db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version}`];
  const schema = db.query<{ type: string; name: string; sql: string | null }, []>(
    "SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all();
  for (const entry of schema) lines.push(`${entry.type} ${entry.name}: ${entry.sql}`);
  for (const { name } of schema.filter((entry) => entry.type === "table")) {
    const columns = db.query<{ name: string; pk: number }, [string]>("SELECT name, pk FROM pragma_table_info(?)").all(name);
    const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const order = (key.length > 0 ? key : columns).map((c) => ident(c.name)).join(", ");
    // quote() writes each value as its SQL literal: type and bytes exactly (blobs as X'..').
    const row = columns.map((c) => `quote(${ident(c.name)})`).join(" || ',' || ");
    lines.push(`-- ${name}`);
    for (const [text] of db.query(`SELECT ${row} FROM ${ident(name)} ORDER BY ${order}`).values()) lines.push(String(text));
  }
  return lines.join("\n");
}

/**
 * PostgreSQL: every row of every table outside the system schemas (drizzle's journal too), as
 * `jsonb` text ordered by primary key. Sequences are left out: `nextval` is not transactional
 * in PostgreSQL, so an INSERT refused by a constraint still uses up an id (ids stay unique and
 * are never reused; that gap is not data).
 */
async function dumpPostgres(sql: ReturnType<typeof pgClient>): Promise<string> {
  const tables = await sql`SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2` as { schema: string; name: string }[];
  const lines: string[] = [];
  for (const { schema, name } of tables) {
    const table = `"${schema}"."${name}"`;
    const key = await sql.unsafe(`SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`, [table]) as { name: string }[];
    const order = key.length > 0 ? key.map((k) => `"${k.name}"`).join(", ") : "1";
    lines.push(`-- ${table}`);
    for (const row of await sql.unsafe(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY ${order}`) as { row: string }[]) lines.push(row.row);
  }
  return lines.join("\n");
}
