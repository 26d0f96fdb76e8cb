import { SQL } from "bun";
import { randomBytes } from "node:crypto";
import { PgStore } from "../../src/store/pg-store.ts";
import { onCleanup } from "./cleanup.ts";

/**
 * PostgreSQL for tests: `TEST_DATABASE_URL` names a server (and a database to connect to for
 * administration), else the project machines' default, trust-authenticated server on
 * 127.0.0.1:5432. Each test gets a database of its own, dropped after it.
 */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) || "postgres";
}

/** The URL of database `name` on the test server. */
export function pgUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

let admin: SQL | undefined;
function adminClient(): SQL {
  admin ??= new SQL(PG_ADMIN_URL, { database: databaseOf(PG_ADMIN_URL), max: 2, idleTimeout: 5, connectionTimeout: 3 });
  return admin;
}

/** Whether the test server answers (checked once, quickly). */
export async function probePostgres(): Promise<boolean> {
  const probe = new SQL(PG_ADMIN_URL, { database: databaseOf(PG_ADMIN_URL), max: 1, connectionTimeout: 2 });
  try {
    await probe`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await probe.close().catch(() => {});
  }
}

/** Creates an empty database (not migrated); dropped after the test. */
export async function freshPgDatabase(): Promise<{ name: string; url: string }> {
  const name = `cronjobs_test_${randomBytes(6).toString("hex")}`;
  await adminClient().unsafe(`CREATE DATABASE "${name}"`);
  onCleanup(() => dropPgDatabase(name));
  return { name, url: pgUrl(name) };
}

/** Drops a test database, closing whatever connections are still open on it. */
export async function dropPgDatabase(name: string): Promise<void> {
  await adminClient().unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** A fresh migrated database and a store on it; both closed and dropped after the test. */
export async function freshPgStore(options: { poolSize?: number } = {}): Promise<{ store: PgStore; url: string; name: string }> {
  const { name, url } = await freshPgDatabase();
  const store = await PgStore.open(url, { poolSize: options.poolSize ?? 4 });
  onCleanup(() => store.close());
  return { store, url, name };
}

/**
 * A login role of its own (superuser, for tests only), dropped after the test, and `url` as that
 * role: an instance connecting with it is recognisable in the database (`session_user`).
 */
export async function freshPgRole(url: string): Promise<string> {
  const role = `cronjobs_test_role_${randomBytes(4).toString("hex")}`;
  await adminClient().unsafe(`CREATE ROLE "${role}" LOGIN SUPERUSER`);
  onCleanup(async () => { await adminClient().unsafe(`DROP ROLE IF EXISTS "${role}"`); });
  const as = new URL(url);
  as.username = role;
  as.password = "";
  return as.toString();
}

/** A plain client on a test database, for the assertions the store interface does not offer. */
export function pgClient(url: string, max = 2): SQL {
  const client = new SQL(url, { database: databaseOf(url), max, idleTimeout: 5 });
  onCleanup(() => client.close());
  return client;
}
