import { defineCommand } from "citty";
import { action } from "../action.ts";
import { cronRunnerArgs, cronRunnerMain, cronRunnerMeta } from "./cron-runner-args.ts";

export default defineCommand({
  meta: cronRunnerMeta,
  args: cronRunnerArgs,
  run: ({ args }) => action(() => cronRunnerMain(args)),
});
