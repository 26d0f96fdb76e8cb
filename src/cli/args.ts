import type { ArgsDef } from "citty";
import { settings, type SettingName, type SettingValues } from "../config.ts";

const flagOf = (name: SettingName) => name.toLowerCase().replace(/_/g, "-");

/** One `--kebab-case` flag per setting of `src/config.ts`, same meaning as the variable. */
export function configArgs<const N extends SettingName>(names: readonly N[]) {
  const args: ArgsDef = {};
  for (const name of names) args[flagOf(name)] = { type: "string", description: `${settings[name]} [env ${name}]` };
  return args as Record<string, { type: "string"; description: string }>;
}

/** The flags given on the command line, named like the environment variables. */
export function configFlags(args: Record<string, unknown>, names: readonly SettingName[]): SettingValues {
  const values: SettingValues = {};
  for (const name of names) {
    const value = args[flagOf(name)];
    if (typeof value === "string") values[name] = value;
  }
  return values;
}

export const SERVER_SETTINGS = ["DATABASE_URL", "HOST", "PORT", "APP_URL", "CRON_SECRET", "ADMIN_TOKEN", "VIEWER_TOKEN", "JOB_SIGNING_SECRET", "HTTP_JOB_ALLOW", "HISTORY_DAYS", "FRESHNESS_DIR", "DB_POOL_SIZE"] as const;
/** `app cron-runner`: how to reach the server (or, with --local, the database) and where the marker goes. */
export const RUNNER_SETTINGS = ["DATABASE_URL", "HOST", "PORT", "APP_URL", "CRON_SECRET", "JOB_SIGNING_SECRET", "HTTP_JOB_ALLOW", "HISTORY_DAYS", "FRESHNESS_DIR", "DB_POOL_SIZE"] as const;
/** `app crontab`: what the printed lines pass on to the scripts. */
export const CRONTAB_SETTINGS = ["DATABASE_URL", "HOST", "PORT", "APP_URL", "CRON_SECRET", "FRESHNESS_DIR"] as const;
export const DB_SETTINGS = ["DATABASE_URL", "DB_POOL_SIZE"] as const;

/** `--create-dirs`: for the commands that create the SQLite file. */
export const createDirsArg = {
  "create-dirs": { type: "boolean", description: "create the folder of DATABASE_URL when it does not exist (the default ./data always is)" },
} as const;
