import type { Config } from "../config.ts";
import type { Store } from "./store.ts";

/** Opens and migrates the configured backend. */
export async function openStore(config: Pick<Config, "backend" | "databaseUrl" | "dbPoolSize">): Promise<Store> {
  const { SqliteStore } = await import("./sqlite-store.ts");
  return SqliteStore.open(config.databaseUrl);
}
