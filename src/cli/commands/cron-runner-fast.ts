/**
 * The path crontab takes every minute: `app cron-runner [--flag value]…` runs from here before
 * citty, zod and the other commands load (issue 15.18: start-up within 1.3× a bare binary doing
 * the same POST and marker write; loading zod and building the configuration schema alone took
 * about as long as that whole floor).
 *
 * It takes only the plain case, and leaves everything else to the full path, which answers it
 * exactly as for every other command: the arguments must be declared string flags with their
 * values (`--app-url URL`, `--app-url=URL`), each once — `--help`, `--local`, an unknown or
 * repeated flag, a positional go the citty way; and the settings must be plainly valid by the
 * checks below — anything those do not accept (a setting cron-runner does not read but that is
 * set, a `postgres://` URL, an APP_URL with a query…) goes through `loadConfig` and its zod
 * schema, which accepts it or names the problem. A test holds both paths to the same `Config`.
 */
import path from "node:path";
import type { Config, SettingName, SettingValues } from "../../config.ts";
import { runCronRunner } from "../../../scripts_server/cron-runner.ts";
import { action } from "../action.ts";

/** The settings `app cron-runner` reads, as in `RUNNER_SETTINGS` (a test keeps them equal). */
export const FAST_SETTINGS = ["DATABASE_URL", "HOST", "PORT", "APP_URL", "CRON_SECRET", "JOB_SIGNING_SECRET", "HTTP_JOB_ALLOW", "HISTORY_DAYS", "FRESHNESS_DIR", "DB_POOL_SIZE"] as const satisfies readonly SettingName[];
/** Read by `--local` only, or by nothing here: when set, the full path validates them. */
const UNREAD: readonly SettingName[] = ["ADMIN_TOKEN", "VIEWER_TOKEN", "JOB_SIGNING_SECRET", "HTTP_JOB_ALLOW", "HISTORY_DAYS", "DB_POOL_SIZE"];

const flagOf = (name: SettingName) => name.toLowerCase().replace(/_/g, "-");
const FLAGS = new Map<string, SettingName | "limit">([...FAST_SETTINGS.map((name) => [flagOf(name), name] as const), ["limit", "limit"]]);

/** The flags of a plain command line (by setting name, and `limit`), or undefined when citty should read it. */
export function plainFlags(argv: readonly string[]): { settings: SettingValues; limit: string | undefined } | undefined {
  const settings: SettingValues = {};
  let limit: string | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) return undefined;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const target = FLAGS.get(flag);
    if (target === undefined || seen.has(flag)) return undefined;
    seen.add(flag);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith("-"))) return undefined;
    if (target === "limit") limit = value;
    else settings[target] = value;
  }
  return { settings, limit };
}

/**
 * The configuration when every setting cron-runner reads is plainly valid and none it does not
 * read is set; else undefined (then `loadConfig` decides). Equal to `loadConfig` where defined.
 */
export function plainConfig(flags: SettingValues, env: Record<string, string | undefined> = process.env): Config | undefined {
  const get = (name: SettingName) => flags[name] ?? env[name];
  if (UNREAD.some((name) => get(name) !== undefined)) return undefined;
  const databaseUrl = get("DATABASE_URL") ?? "./data/app.db";
  // A URL, `sqlite:`/`file:` forms, `:memory:` and drive letters: the full path.
  if (databaseUrl === "" || /^[a-z][a-z0-9+.-]*:/i.test(databaseUrl) || databaseUrl.startsWith(":")) return undefined;
  const host = get("HOST") ?? "127.0.0.1";
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) return undefined;
  const portText = get("PORT");
  if (portText !== undefined && !/^(?:0|[1-9]\d{0,4})$/.test(portText)) return undefined;
  const port = portText === undefined ? 3000 : Number(portText);
  if (port > 65535) return undefined;
  const appUrlText = get("APP_URL");
  if (appUrlText !== undefined && !/^https?:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[1-9]\d{0,4})?(?:\/[A-Za-z0-9._~/-]*)?$/.test(appUrlText)) return undefined;
  const cronSecret = get("CRON_SECRET");
  if (cronSecret !== undefined && cronSecret.length < 16) return undefined;
  const freshnessDir = get("FRESHNESS_DIR") ?? "./freshness";
  if (freshnessDir === "") return undefined;
  const urlHost = host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    databaseUrl,
    backend: "sqlite",
    host,
    port,
    appUrl: (appUrlText ?? `http://${urlHost}:${port}`).replace(/\/+$/, ""),
    cronSecret,
    adminToken: undefined,
    jobSigningSecret: undefined,
    httpJobAllow: undefined,
    viewerToken: undefined,
    historyDays: 14,
    freshnessDir: path.resolve(freshnessDir),
    dataDir: path.dirname(path.resolve(databaseUrl)),
    dbPoolSize: 10,
  };
}

/** Runs the command when its command line and settings are plain; false: leave it to the full path. */
export async function runCronRunnerFast(argv: readonly string[]): Promise<boolean> {
  const flags = plainFlags(argv);
  if (flags === undefined || (flags.limit !== undefined && !/^[1-9]\d{0,8}$/.test(flags.limit))) return false;
  const config = plainConfig(flags.settings);
  if (config === undefined) return false;
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  await action(() => runCronRunner(config, { limit }));
  return true;
}
