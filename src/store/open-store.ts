import type { Config } from "../config.ts";
import type { Store } from "./store.ts";

/** Opens and migrates the configured backend; each one's module loads only when it is used. */
export async function openStore(config: Pick<Config, "backend" | "databaseUrl" | "dbPoolSize">): Promise<Store> {
  if (config.backend === "postgres") {
    const { PgStore } = await import("./pg-store.ts");
    return PgStore.open(config.databaseUrl, { poolSize: config.dbPoolSize });
  }
  const { SqliteStore } = await import("./sqlite-store.ts");
  return SqliteStore.open(config.databaseUrl);
}
