/**
 * `app cron-runner`'s flags and body, without citty: `commands/cron-runner.ts` wraps them in a
 * citty command, and `cron-runner-fast.ts` runs them straight from `src/cli/index.ts` (crontab
 * starts this command every minute, so it loads nothing it does not use).
 */
import { loadConfig } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { configArgs, configFlags, RUNNER_SETTINGS } from "../args.ts";
import { cliContext } from "../context.ts";

export const cronRunnerMeta = { name: "cron-runner", description: "Runs due jobs once: through POST /api/cron/run, or in-process with --local. For crontab." };

export const cronRunnerArgs = {
  ...configArgs(RUNNER_SETTINGS),
  local: { type: "boolean", description: "run one tick in this process against the database (no server needed)" },
  limit: { type: "string", description: "most jobs this tick runs" },
} as const;

/** The command's body; answers its exit code. */
export async function cronRunnerMain(args: Record<string, unknown>): Promise<number> {
  const config = loadConfig(configFlags(args, RUNNER_SETTINGS));
  const limit = args.limit === undefined ? undefined : Number(args.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new AppError("INVALID_INPUT", "--limit must be a whole number ≥ 1");
  }
  if (args.local) {
    const { runLocalTick } = await import("../../../scripts_server/cron-runner-local.ts");
    return runLocalTick(config, { limit, jobs: cliContext().jobs });
  }
  const { runCronRunner } = await import("../../../scripts_server/cron-runner.ts");
  return runCronRunner(config, { limit });
}
