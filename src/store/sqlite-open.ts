import { Database } from "bun:sqlite";
import fs from "node:fs";
import path from "node:path";
import { sqliteMigrations, type Migration } from "../../db/migrations.ts";
import { sqliteFailure } from "./sqlite-errors.ts";

export interface SqliteOptions {
  /** How long a writer waits for another's lock before the call fails with UNAVAILABLE. */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/**
 * A new database file (and its folder) is made readable by its owner only: SQLite gives the
 * WAL and shared-memory files the mode of the database file.
 */
function createPrivately(file: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw sqliteFailure(err, `cannot create database ${file}`);
  }
}

/** Opens a connection with the settings every connection needs: WAL, busy timeout, foreign keys. */
export function openSqlite(file: string, options: SqliteOptions = {}): Database {
  if (file !== ":memory:" && !options.readonly) createPrivately(file);
  let db: Database;
  try {
    db = options.readonly ? new Database(file, { readonly: true }) : new Database(file, { create: true });
    db.run(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    if (!options.readonly) db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
  } catch (err) {
    throw sqliteFailure(err, `cannot open database ${file}`);
  }
  return db;
}

/**
 * Applies the embedded drizzle-kit migrations not yet applied, each in one transaction,
 * recording them in drizzle's own `__drizzle_migrations` table. Concurrent migrators
 * serialize on the write lock; the loser finds nothing left to do.
 */
export function migrateSqlite(db: Database, migrations: Migration[] = sqliteMigrations): string[] {
  const applied: string[] = [];
  try {
    db.run(`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)`);
    db.transaction(() => {
      const last = db.query<{ at: number | null }, []>(`SELECT max(created_at) AS at FROM "__drizzle_migrations"`).get()?.at ?? 0;
      for (const migration of migrations) {
        if (migration.when <= last) continue;
        for (const statement of migration.sql.split("--> statement-breakpoint")) {
          if (statement.trim()) db.run(statement);
        }
        const hash = new Bun.CryptoHasher("sha256").update(migration.sql).digest("hex");
        db.query(`INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)`).run(hash, migration.when);
        applied.push(migration.tag);
      }
    }).immediate();
  } catch (err) {
    throw sqliteFailure(err, "cannot migrate the database");
  }
  return applied;
}
