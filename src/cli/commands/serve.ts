import { defineCommand } from "citty";
import { checkDatabaseDir, loadConfig } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { action } from "../action.ts";
import { configArgs, configFlags, createDirsArg, SERVER_SETTINGS } from "../args.ts";
import { cliContext } from "../context.ts";

export default defineCommand({
  meta: { name: "serve", description: "Runs the HTTP server and the built-in timer that runs due jobs." },
  args: {
    ...configArgs(SERVER_SETTINGS),
    ...createDirsArg,
    "shutdown-grace": { type: "string", description: "seconds running jobs get to finish on SIGTERM/SIGINT (default 10)" },
  },
  run: ({ args }) => action(async () => {
    const config = loadConfig(configFlags(args, SERVER_SETTINGS));
    checkDatabaseDir(config, { createDirs: args["create-dirs"] === true });
    const graceSeconds = Number(args["shutdown-grace"] ?? 10);
    if (!Number.isFinite(graceSeconds) || graceSeconds < 0) throw new AppError("INVALID_INPUT", "--shutdown-grace must be a number of seconds ≥ 0");
    const { startServer } = await import("../../server/start.ts");
    await startServer(config, { graceMs: graceSeconds * 1000, jobs: cliContext().jobs });
  }),
});
