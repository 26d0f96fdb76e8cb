import { defineCommand } from "citty";
import { checkDatabaseDir, loadConfig } from "../../config.ts";
import { action } from "../action.ts";
import { configArgs, configFlags, createDirsArg, DB_SETTINGS } from "../args.ts";

export default defineCommand({
  meta: { name: "migrate", description: "Creates or upgrades the database schema, then exits." },
  args: { ...configArgs(DB_SETTINGS), ...createDirsArg },
  run: ({ args }) => action(async () => {
    const config = loadConfig(configFlags(args, DB_SETTINGS));
    checkDatabaseDir(config, { createDirs: args["create-dirs"] === true });
    const { openStore } = await import("../../store/open-store.ts");
    const store = await openStore(config);
    await store.close();
    process.stdout.write(`database is up to date (${config.backend === "sqlite" ? config.databaseUrl : "postgres"})\n`);
  }),
});
