import type { SqliteStore } from "../../src/store/sqlite-store.ts";
import type { PgStore } from "../../src/store/pg-store.ts";
import type { Store } from "../../src/store/store.ts";

/**
 * Runs one statement straight on the store's database, as the web application or an operator
 * would (no change notice, no store logic): `sql` per backend, since the dialects differ.
 */
export async function execRaw(store: Store, sql: { sqlite: string; postgres: string }): Promise<void> {
  if (store.backend === "sqlite") (store as SqliteStore).client.run(sql.sqlite);
  else await (store as PgStore).client.unsafe(sql.postgres);
}
