import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.ts";
import { bearerToken, resolveSecrets, secretMatches } from "../src/secrets.ts";
import { tempDir } from "./support/db.ts";

describe("loadConfig", () => {
  test("defaults: the embedded SQLite file, loopback, port 3000", () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({ backend: "sqlite", databaseUrl: "./data/app.db", host: "127.0.0.1", port: 3000, appUrl: "http://127.0.0.1:3000", cronSecret: undefined, adminToken: undefined });
    expect(config.dataDir).toBe(path.resolve("data"));
    expect(config.freshnessDir).toBe(path.resolve("freshness"));
  });

  test("flag > environment > default", () => {
    expect(loadConfig({ PORT: "4001" }, { PORT: "4000" }).port).toBe(4001);
    expect(loadConfig({}, { PORT: "4000" }).port).toBe(4000);
  });

  test("a postgres URL selects PostgreSQL", () => {
    expect(loadConfig({}, { DATABASE_URL: "postgres://u@h/db" }).backend).toBe("postgres");
    expect(loadConfig({}, { DATABASE_URL: "postgresql://u@h/db" }).backend).toBe("postgres");
  });

  test.each([
    [{ PORT: "x" }, "PORT"],
    [{ PORT: "1.5" }, "PORT"],
    [{ PORT: "-1" }, "PORT"],
    [{ HOST: "" }, "HOST"],
    [{ DATABASE_URL: "" }, "DATABASE_URL"],
    [{ DATABASE_URL: "mysql://h/db" }, "DATABASE_URL"],
    [{ APP_URL: "ftp://x" }, "APP_URL"],
    [{ CRON_SECRET: "" }, "CRON_SECRET"],
    [{ ADMIN_TOKEN: "short" }, "ADMIN_TOKEN"],
    [{ DB_POOL_SIZE: "0" }, "DB_POOL_SIZE"],
    [{ DB_POOL_SIZE: "x" }, "DB_POOL_SIZE"],
  ])("%p is refused with one line naming %s", (env, name) => {
    let message = "";
    try {
      loadConfig({}, env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(name);
    expect(message.split("\n")).toHaveLength(1);
  });
});

describe("secrets", () => {
  test("generated once into the data dir with mode 0600, then read back by clients", () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {});
    expect(() => resolveSecrets(config, { generate: false })).toThrow("CRON_SECRET is not set");
    const first = resolveSecrets(config, { generate: true });
    expect(first.cronSecret).not.toBe(first.adminToken);
    expect(fs.statSync(path.join(dataDir, "secrets.json")).mode & 0o777).toBe(0o600);
    expect(resolveSecrets(config, { generate: true })).toEqual(first);
    expect(resolveSecrets(config, { generate: false })).toEqual(first);
  });

  test("configured secrets win over the generated file", () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db"), CRON_SECRET: "c".repeat(20), ADMIN_TOKEN: "a".repeat(20) }, {});
    expect(resolveSecrets(config, { generate: true })).toEqual({ cronSecret: "c".repeat(20), adminToken: "a".repeat(20) });
    expect(fs.existsSync(path.join(dataDir, "secrets.json"))).toBe(false);
  });

  test("a corrupt secrets file is a clear error", () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, "secrets.json"), "{nope");
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {});
    expect(() => resolveSecrets(config, { generate: true })).toThrow("not a valid secrets file");
  });

  test("bearer parsing and constant-time comparison", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer abc")).toBe("abc"); // the scheme is case-insensitive (RFC 7235)
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(null)).toBeUndefined();
    expect(secretMatches("same-secret", "same-secret")).toBe(true);
    expect(secretMatches("same-secre", "same-secret")).toBe(false);
  });
});
