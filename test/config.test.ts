import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { checkDatabaseDir, loadConfig } from "../src/config.ts";
import { bearerToken, clientToken, jobSigningSecret, resolveSecrets, secretMatches } from "../src/secrets.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";
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
    [{ ADMIN_TOKEN: "alice:short" }, "ADMIN_TOKEN"],
    [{ ADMIN_TOKEN: "alice:0123456789abcdef,alice:fedcba9876543210" }, "ADMIN_TOKEN"],
    [{ ADMIN_TOKEN: "alice:0123456789abcdef,0123456789abcdefg" }, "ADMIN_TOKEN"],
    [{ ADMIN_TOKEN: "al ice:0123456789abcdef" }, "ADMIN_TOKEN"],
    [{ VIEWER_TOKEN: "" }, "VIEWER_TOKEN"],
    [{ VIEWER_TOKEN: "short" }, "VIEWER_TOKEN"],
    [{ ADMIN_TOKEN: "a:0123456789abcdef", VIEWER_TOKEN: "a:fedcba9876543210" }, "VIEWER_TOKEN"],
    [{ ADMIN_TOKEN: "a:0123456789abcdef", VIEWER_TOKEN: "b:0123456789abcdef" }, "VIEWER_TOKEN"],
    [{ HISTORY_DAYS: "0" }, "HISTORY_DAYS"],
    [{ HISTORY_DAYS: "1.5" }, "HISTORY_DAYS"],
    [{ HISTORY_DAYS: "many" }, "HISTORY_DAYS"],
    [{ DB_POOL_SIZE: "0" }, "DB_POOL_SIZE"],
    [{ DB_POOL_SIZE: "x" }, "DB_POOL_SIZE"],
    [{ JOB_SIGNING_SECRET: "" }, "JOB_SIGNING_SECRET"],
    [{ JOB_SIGNING_SECRET: "short" }, "JOB_SIGNING_SECRET"],
    [{ HTTP_JOB_ALLOW: "" }, "HTTP_JOB_ALLOW"],
    [{ HTTP_JOB_ALLOW: " , " }, "HTTP_JOB_ALLOW"],
    [{ HTTP_JOB_ALLOW: "https://api.example.com" }, "HTTP_JOB_ALLOW"],
    [{ HTTP_JOB_ALLOW: "api.example.com/path" }, "HTTP_JOB_ALLOW"],
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

describe("tokens and history settings", () => {
  test("ADMIN_TOKEN and VIEWER_TOKEN take one token or named ones; clients send the first", () => {
    const config = loadConfig({ VIEWER_TOKEN: "carol:0123456789abcdef" }, { ADMIN_TOKEN: "alice:aaaaaaaaaaaaaaaa,bob:bbbbbbbbbbbbbbbb" });
    expect(config).toMatchObject({ adminToken: "alice:aaaaaaaaaaaaaaaa,bob:bbbbbbbbbbbbbbbb", viewerToken: "carol:0123456789abcdef" });
    expect(clientToken(config.adminToken!, "ADMIN_TOKEN")).toBe("aaaaaaaaaaaaaaaa");
    expect(clientToken("plain-token-0123456789", "ADMIN_TOKEN")).toBe("plain-token-0123456789");
  });

  test("HISTORY_DAYS: default 14, flag over environment", () => {
    expect(loadConfig({}, {}).historyDays).toBe(14);
    expect(loadConfig({}, { HISTORY_DAYS: "30" }).historyDays).toBe(30);
    expect(loadConfig({ HISTORY_DAYS: "2" }, { HISTORY_DAYS: "30" }).historyDays).toBe(2);
  });
});

describe("the database's folder", () => {
  test("a DATABASE_URL in a folder that does not exist is refused unless --create-dirs or the default ./data", () => {
    const missing = path.join(tempDir(), "no", "such", "app.db");
    expect(() => checkDatabaseDir(loadConfig({ DATABASE_URL: missing }, {}), { createDirs: false })).toThrow(`the directory ${path.dirname(missing)} does not exist (create it, or give --create-dirs)`);
    expect(() => checkDatabaseDir(loadConfig({ DATABASE_URL: missing }, {}), { createDirs: true })).not.toThrow();
    expect(() => checkDatabaseDir(loadConfig({}, {}), { createDirs: false })).not.toThrow();
    expect(() => checkDatabaseDir(loadConfig({ DATABASE_URL: path.join(tempDir(), "app.db") }, {}), { createDirs: false })).not.toThrow();
    expect(() => checkDatabaseDir(loadConfig({ DATABASE_URL: "postgres://u@h/db" }, {}), { createDirs: false })).not.toThrow();
  });

  test("a new data folder, database and its WAL/SHM files are readable by their owner only", async () => {
    const dir = path.join(tempDir(), "data");
    const file = path.join(dir, "app.db");
    const store = SqliteStore.open(file);
    try {
      await store.ping();
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      for (const name of ["app.db", "app.db-wal", "app.db-shm"]) {
        expect({ name, mode: fs.statSync(path.join(dir, name)).mode & 0o777 }).toEqual({ name, mode: 0o600 });
      }
    } finally {
      store.close();
    }
    const fresh = path.join(tempDir(), "fresh");
    resolveSecrets(loadConfig({ DATABASE_URL: path.join(fresh, "app.db") }, {}), { generate: true });
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o700);
  });
});

test("HTTP_JOB_ALLOW: a list of hosts, trimmed and lower-cased; unset allows any host", () => {
  expect(loadConfig({}, { HTTP_JOB_ALLOW: " API.example.com, *.internal ,127.0.0.1,[::1],localhost:8080" }).httpJobAllow).toEqual(["api.example.com", "*.internal", "127.0.0.1", "[::1]", "localhost:8080"]);
  expect(loadConfig({}, {}).httpJobAllow).toBeUndefined();
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

  test("generated secrets are 64 hex digits: none starts with \"-\", so each passes as a flag's value (`--admin-token TOKEN`)", () => {
    for (let i = 0; i < 50; i++) {
      const { cronSecret, adminToken } = resolveSecrets(loadConfig({ DATABASE_URL: path.join(tempDir(), "app.db") }, {}), { generate: true });
      expect(cronSecret).toMatch(/^[0-9a-f]{64}$/);
      expect(adminToken).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test("configured secrets win over the generated file", () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db"), CRON_SECRET: "c".repeat(20), ADMIN_TOKEN: "a".repeat(20), JOB_SIGNING_SECRET: "j".repeat(20) }, {});
    expect(resolveSecrets(config, { generate: true })).toEqual({ cronSecret: "c".repeat(20), adminToken: "a".repeat(20) });
    expect(jobSigningSecret(config)).toBe("j".repeat(20));
    expect(fs.existsSync(path.join(dataDir, "secrets.json"))).toBe(false);
  });

  test("the server's secrets given: the server needs no file; JOB_SIGNING_SECRET not given is generated into one", () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db"), CRON_SECRET: "c".repeat(20), ADMIN_TOKEN: "a".repeat(20) }, {});
    expect(resolveSecrets(config, { generate: true })).toEqual({ cronSecret: "c".repeat(20), adminToken: "a".repeat(20) });
    expect(fs.existsSync(path.join(dataDir, "secrets.json"))).toBe(false);
    const secret = jobSigningSecret(config);
    const file = JSON.parse(fs.readFileSync(path.join(dataDir, "secrets.json"), "utf8"));
    expect(secret).toBe(file.jobSigningSecret);
    expect((secret as string).length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(path.join(dataDir, "secrets.json")).mode & 0o777).toBe(0o600);
    expect(jobSigningSecret(config, { generate: false })).toBe(secret);
  });

  test("a secrets file from before the signing secret gets one, the same for every reader, written back once", () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, "secrets.json");
    const old = { cronSecret: "c".repeat(43), adminToken: "a".repeat(43) };
    fs.writeFileSync(file, JSON.stringify(old), { mode: 0o600 });
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {});
    expect(resolveSecrets(config, { generate: false })).toEqual(old);
    const derived = jobSigningSecret(config, { generate: false });
    expect(typeof derived).toBe("string");
    expect(JSON.parse(fs.readFileSync(file, "utf8")).jobSigningSecret).toBeUndefined();
    expect(jobSigningSecret(config)).toBe(derived);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ ...old, jobSigningSecret: derived });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dataDir)).toEqual(["secrets.json"]);
    expect(resolveSecrets(config, { generate: true })).toEqual(old);
    // Another host's old file derives another secret.
    fs.writeFileSync(file, JSON.stringify({ ...old, cronSecret: "d".repeat(43) }), { mode: 0o600 });
    expect(jobSigningSecret(config, { generate: false })).not.toBe(derived);
  });

  test("no signing secret to be had (the data dir cannot be written): an error saying so, for the http job to report", () => {
    const blocker = path.join(tempDir(), "not-a-dir");
    fs.writeFileSync(blocker, "");
    const config = loadConfig({ DATABASE_URL: path.join(blocker, "data", "app.db"), CRON_SECRET: "c".repeat(20), ADMIN_TOKEN: "a".repeat(20) }, {});
    const secret = jobSigningSecret(config);
    expect(secret).toBeInstanceOf(Error);
    expect((secret as Error).message).toStartWith("JOB_SIGNING_SECRET is not set and cannot be generated (");
    expect((secret as Error).message).toContain(path.join(blocker, "data", "secrets.json"));
    expect(jobSigningSecret(config, { generate: false })).toBeInstanceOf(Error);
  });

  test("a corrupt secrets file is a clear error", () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, "secrets.json"), "{nope");
    const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {});
    expect(() => resolveSecrets(config, { generate: true })).toThrow("not a valid secrets file");
  });

  test("a secrets file another user could have written is refused with one line naming the problem", () => {
    const good = { cronSecret: "c".repeat(20), adminToken: "a".repeat(20) };
    const refused = (prepare: (file: string, dataDir: string) => void) => {
      const dataDir = tempDir();
      const file = path.join(dataDir, "secrets.json");
      prepare(file, dataDir);
      const config = loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {});
      let message = "";
      try {
        resolveSecrets(config, { generate: true });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message.split("\n")).toHaveLength(1);
      return message;
    };
    const plant = (file: string, mode: number) => fs.writeFileSync(file, JSON.stringify(good), { mode });
    expect(refused((file) => { plant(file, 0o666); fs.chmodSync(file, 0o666); })).toContain("writable by other users");
    expect(refused((file) => { plant(file, 0o620); fs.chmodSync(file, 0o620); })).toContain("writable by its group");
    expect(refused((file) => {
      const elsewhere = path.join(tempDir(), "planted.json");
      plant(elsewhere, 0o600);
      fs.symlinkSync(elsewhere, file);
    })).toContain("is a symbolic link");
    if (process.getuid?.() === 0) {
      // Root can plant a file as another user: the owner check, as a non-root server would see it.
      expect(refused((file) => { plant(file, 0o600); fs.chownSync(file, 65534, 65534); })).toContain("owned by uid 65534");
    }
    // The same file, owned and private, is accepted.
    const dataDir = tempDir();
    plant(path.join(dataDir, "secrets.json"), 0o600);
    expect(resolveSecrets(loadConfig({ DATABASE_URL: path.join(dataDir, "app.db") }, {}), { generate: false })).toMatchObject(good);
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
