import fs from "node:fs";
import { isTRPCClientError } from "@trpc/client";
import { CLIENT_HEADER } from "../../actor.ts";
import { createClient, type Client } from "../../client.ts";
import { loadConfig, type Config } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { clientToken, resolveSecrets, secretsPath } from "../../secrets.ts";
import { action, EXIT } from "../action.ts";
import { configArgs, configFlags } from "../args.ts";
import { escapeControl } from "../../text/escape.ts";

/** Where the server is and how to sign in: flags, else the environment, else this host's generated secrets. */
const CONNECTION_SETTINGS = ["APP_URL", "ADMIN_TOKEN", "VIEWER_TOKEN", "DATABASE_URL", "HOST", "PORT"] as const;

export const connectionArgs = {
  ...configArgs(CONNECTION_SETTINGS),
  json: { type: "boolean", description: "print JSON instead of a table (for scripts)" },
} as const;

export interface Connection {
  client: Client;
  url: string;
  json: boolean;
}

/** The token to send: ADMIN_TOKEN's (the first of named ones), else VIEWER_TOKEN's, else the generated one. */
function adminToken(config: Config): string {
  if (config.adminToken) return clientToken(config.adminToken, "ADMIN_TOKEN");
  if (config.viewerToken) return clientToken(config.viewerToken, "VIEWER_TOKEN");
  const file = secretsPath(config.dataDir);
  if (!fs.existsSync(file)) {
    throw new AppError("INVALID_INPUT", `ADMIN_TOKEN is not set and ${file} does not exist (give --admin-token, set ADMIN_TOKEN, or run this where \`app serve\` generated its secrets)`);
  }
  return resolveSecrets(config, { generate: false }).adminToken;
}

export function connect(args: Record<string, unknown>): Connection {
  const config = loadConfig(configFlags(args, CONNECTION_SETTINGS));
  const token = adminToken(config);
  return { client: createClient({ url: config.appUrl, token, batch: false, headers: { [CLIENT_HEADER]: "cli" } }), url: config.appUrl, json: args.json === true };
}

/**
 * Runs a `app jobs` command: exit 0 when it worked, 1 when the server rejected the request
 * (its message on stderr), 2 when the server could not be reached (or the configuration is bad).
 */
export function jobsAction(args: Record<string, unknown>, fn: (conn: Connection) => Promise<number | void>): Promise<void> {
  return action(async () => {
    const conn = connect(args);
    try {
      return await fn(conn);
    } catch (err) {
      if (!isTRPCClientError(err)) throw err;
      if (err.shape) {
        process.stderr.write(`app: ${escapeControl(err.message)}\n`);
        return EXIT.FAILED;
      }
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      process.stderr.write(`app: cannot reach the server at ${conn.url}: ${escapeControl(cause)}\n`);
      return EXIT.UNUSABLE;
    }
  });
}
