import { defineCommand } from "citty";
import { loadConfig } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { action } from "../action.ts";
import { configArgs, configFlags } from "../args.ts";

const SETTINGS = ["FRESHNESS_DIR"] as const;

/** A whole number of seconds ≥ 1 from a flag, or the default. */
function seconds(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new AppError("INVALID_INPUT", `--${flag} must be a whole number of seconds ≥ 1`);
  return n;
}

export default defineCommand({
  meta: {
    name: "tests-cronjob-runner",
    description: "Runs the test suite under a lock and writes the tests status page (FRESHNESS_DIR/all_tests_cronjob_fresh.html and .json); the command gets $JUNIT_REPORT for its JUnit report. Exit 0 passed, 1 failed or timed out, 2 could not run.",
  },
  args: {
    ...configArgs(SETTINGS),
    cmd: { type: "string", description: "test command for sh -c (default: this project's suite: bun test --reporter=junit --reporter-outfile=\"$JUNIT_REPORT\")" },
    dir: { type: "string", description: "directory the command runs in (default: the source checkout when run from source, else the current directory)" },
    timeout: { type: "string", description: "seconds before the command's process group is killed and the run is `timed out` (default 600)" },
    "stale-after": { type: "string", description: "seconds after a run's end when its page counts as stale (default 3600)" },
    history: { type: "string", description: "runs kept in the page's history (default 10)" },
  },
  run: ({ args }) => action(async () => {
    const config = loadConfig(configFlags(args, SETTINGS));
    const { runTestsCronjob } = await import("../../../scripts_server/tests-cronjob-runner.ts");
    return runTestsCronjob(config, {
      command: args.cmd,
      cwd: args.dir,
      timeoutMs: seconds(args.timeout, "timeout", 600) * 1000,
      staleAfterMs: seconds(args["stale-after"], "stale-after", 3600) * 1000,
      historySize: seconds(args.history, "history", 10),
    });
  }),
});
