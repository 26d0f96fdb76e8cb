import fs from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import { AppError } from "./errors.ts";
import { parseTokens, TokenTable } from "./tokens.ts";

/**
 * The only reader of the environment. Every setting has an environment variable and a
 * CLI flag of the same meaning; the order is flag > environment > default.
 */
export interface Config {
  /** A SQLite file path (the embedded default) or a `postgres://` URL. */
  databaseUrl: string;
  backend: "sqlite" | "postgres";
  host: string;
  port: number;
  /** Where clients reach the server; defaults to http://HOST:PORT. */
  appUrl: string;
  /** Undefined when not given: `app serve` then generates it into `dataDir`. */
  cronSecret: string | undefined;
  /** One token, or named ones `name:token,…` (validated here; see `parseTokens`). */
  adminToken: string | undefined;
  /** Key of the `http` jobs' request signatures; undefined: generated like the other secrets. */
  jobSigningSecret: string | undefined;
  /** Hosts `http` jobs may call (`HTTP_JOB_ALLOW`); undefined: any host. */
  httpJobAllow: string[] | undefined;
  /** Read-only tokens, same form as `adminToken`; undefined: no viewers. */
  viewerToken: string | undefined;
  /** Days of run history (and audit log) kept; older rows are pruned. */
  historyDays: number;
  freshnessDir: string;
  /** Holds the generated secrets; the SQLite file's folder, or ./data on PostgreSQL. */
  dataDir: string;
  /** PostgreSQL connection pool size. */
  dbPoolSize: number;
}

/** The settings, by environment variable name; CLI flags use the same names in kebab-case. */
export const settings = {
  DATABASE_URL: "SQLite file path or postgres:// URL (default ./data/app.db)",
  HOST: "address the server listens on (default 127.0.0.1)",
  PORT: "port the server listens on (default 3000)",
  APP_URL: "URL clients use to reach the server (default http://HOST:PORT)",
  CRON_SECRET: "bearer secret of POST /api/cron/run (default: generated into the data directory)",
  JOB_SIGNING_SECRET: "key of the signature of `http` jobs' requests (default: generated into the data directory)",
  HTTP_JOB_ALLOW: "comma-separated hosts `http` jobs may call, e.g. api.example.com,*.internal (default: any)",
  ADMIN_TOKEN: "bearer token of /trpc and the dashboard, or named ones name:token,… (default: generated into the data directory)",
  VIEWER_TOKEN: "read-only bearer token(s), same form as ADMIN_TOKEN: may read everything, change nothing (default: none)",
  HISTORY_DAYS: "days of run history kept (default 14)",
  FRESHNESS_DIR: "folder of the freshness markers and pages (default ./freshness)",
  DB_POOL_SIZE: "PostgreSQL connection pool size (default 10)",
} as const;

export type SettingName = keyof typeof settings;
export type SettingValues = Partial<Record<SettingName, string | undefined>>;

// zod/mini, not zod: `app cron-runner` starts every minute from crontab and reads this first.
// In a compiled binary, loading zod/mini and a first parse of this schema took about 1.5 ms
// against about 4.5 ms with the full zod (2026-11, bench/cron-runner-startup.bench.ts).
// Mini has no default English messages, so every check names its setting itself.
const text = (name: string, fallback: string) =>
  z._default(z.string(`${name} must be text`).check(z.minLength(1, `${name} is set but empty`)), fallback);

const secret = (name: string) =>
  z.optional(z.string(`${name} must be text`).check(z.minLength(16, `${name} is set but shorter than 16 characters (leave it unset to use the generated one)`)));

// The form (`name:token,…`, lengths, duplicates) is checked by `parseTokens` after this schema.
const tokens = (name: string) => z.optional(z.string(`${name} must be text`).check(z.minLength(1, `${name} is set but empty`)));

const wholeNumber = (name: string, min: number, max: number, fallback: number) => {
  const range = `${name} must be between ${min} and ${max}`;
  const number = z.int(`${name} must be an integer`).check(z.minimum(min, range), z.maximum(max, range));
  return z._default(z.pipe(z.coerce.number(`${name} must be a number`), number), fallback);
};

const schema = z.object({
  DATABASE_URL: text("DATABASE_URL", "./data/app.db"),
  HOST: text("HOST", "127.0.0.1"),
  PORT: wholeNumber("PORT", 0, 65535, 3000),
  APP_URL: z.optional(z.url({ error: "APP_URL must be an http(s) URL", protocol: /^https?$/ })),
  CRON_SECRET: secret("CRON_SECRET"),
  JOB_SIGNING_SECRET: secret("JOB_SIGNING_SECRET"),
  HTTP_JOB_ALLOW: z.optional(z.string("HTTP_JOB_ALLOW must be text").check(z.minLength(1, "HTTP_JOB_ALLOW is set but empty (leave it unset to allow any host)"))),
  ADMIN_TOKEN: tokens("ADMIN_TOKEN"),
  VIEWER_TOKEN: tokens("VIEWER_TOKEN"),
  HISTORY_DAYS: wholeNumber("HISTORY_DAYS", 1, 36500, 14),
  FRESHNESS_DIR: text("FRESHNESS_DIR", "./freshness"),
  DB_POOL_SIZE: wholeNumber("DB_POOL_SIZE", 1, 1000, 10),
});

/** `HTTP_JOB_ALLOW`: hosts (`api.example.com`, `*.example.com`, `10.0.0.5`, `[::1]`, optionally `:port`), lower-cased. */
function hostList(value: string): string[] {
  const hosts = value.split(",").map((host) => host.trim().toLowerCase()).filter((host) => host !== "");
  if (hosts.length === 0) throw new AppError("INVALID_INPUT", "bad configuration: HTTP_JOB_ALLOW lists no host (leave it unset to allow any host)");
  for (const host of hosts) {
    if (!/^((\*\.)?[a-z0-9._-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(host)) {
      throw new AppError("INVALID_INPUT", `bad configuration: HTTP_JOB_ALLOW: "${host}" is not a host name (give hosts only, e.g. api.example.com,*.internal)`);
    }
  }
  return hosts;
}

/**
 * Reads the configuration once: `flags` (already named like the variables) over `env`.
 * Throws an `AppError("INVALID_INPUT")` whose message is one line naming the variable.
 */
export function loadConfig(flags: SettingValues = {}, env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(settings) as SettingName[]) {
    raw[name] = flags[name] ?? env[name];
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "configuration");
    const message = issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
    throw new AppError("INVALID_INPUT", `bad configuration: ${message}`);
  }
  const v = parsed.data;
  const backend = /^postgres(ql)?:\/\//.test(v.DATABASE_URL) ? "postgres" : "sqlite";
  if (backend === "sqlite" && /^[a-z][a-z0-9+.-]*:\/\//i.test(v.DATABASE_URL)) {
    throw new AppError("INVALID_INPUT", `bad configuration: DATABASE_URL must be a file path or a postgres:// URL (got ${v.DATABASE_URL.split(":")[0]}://…)`);
  }
  if (v.ADMIN_TOKEN !== undefined) parseTokens(v.ADMIN_TOKEN, "ADMIN_TOKEN", "admin");
  if (v.VIEWER_TOKEN !== undefined) {
    parseTokens(v.VIEWER_TOKEN, "VIEWER_TOKEN", "viewer");
    // Checked against the generated admin token too when the server starts (TokenTable.from).
    if (v.ADMIN_TOKEN !== undefined) TokenTable.from({ adminToken: v.ADMIN_TOKEN, viewerToken: v.VIEWER_TOKEN });
  }
  const dbFile = v.DATABASE_URL.replace(/^(sqlite|file):/, "");
  const urlHost = v.HOST === "0.0.0.0" || v.HOST === "::" ? "127.0.0.1" : v.HOST.includes(":") ? `[${v.HOST}]` : v.HOST;
  return {
    databaseUrl: backend === "sqlite" ? dbFile : v.DATABASE_URL,
    backend,
    host: v.HOST,
    port: v.PORT,
    appUrl: (v.APP_URL ?? `http://${urlHost}:${v.PORT}`).replace(/\/+$/, ""),
    cronSecret: v.CRON_SECRET,
    adminToken: v.ADMIN_TOKEN,
    jobSigningSecret: v.JOB_SIGNING_SECRET,
    httpJobAllow: v.HTTP_JOB_ALLOW === undefined ? undefined : hostList(v.HTTP_JOB_ALLOW),
    viewerToken: v.VIEWER_TOKEN,
    historyDays: v.HISTORY_DAYS,
    freshnessDir: path.resolve(v.FRESHNESS_DIR),
    dataDir: backend === "sqlite" && dbFile !== ":memory:" ? path.dirname(path.resolve(dbFile)) : path.resolve("data"),
    dbPoolSize: v.DB_POOL_SIZE,
  };
}

/**
 * A SQLite file whose folder does not exist is a typo more often than a wish: refused unless
 * `createDirs` (`--create-dirs`) or it is the default `./data`.
 */
export function checkDatabaseDir(config: Pick<Config, "backend" | "databaseUrl">, { createDirs }: { createDirs: boolean }): void {
  if (config.backend !== "sqlite" || config.databaseUrl === ":memory:" || createDirs) return;
  const dir = path.dirname(path.resolve(config.databaseUrl));
  if (dir === path.resolve("data") || fs.existsSync(dir)) return;
  throw new AppError("INVALID_INPUT", `DATABASE_URL: the directory ${dir} does not exist (create it, or give --create-dirs)`);
}
