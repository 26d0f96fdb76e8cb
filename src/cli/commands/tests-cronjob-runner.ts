import { defineCommand } from "citty";
import { loadConfig } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { action } from "../action.ts";
import { configArgs, configFlags } from "../args.ts";

const SETTINGS = ["FRESHNESS_DIR"] as const;

/** A whole number of seconds ≥ `min` (default 1) from a flag, or the default. */
function seconds(value: unknown, flag: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isInteger(n) || n < min) throw new AppError("INVALID_INPUT", `--${flag} must be a whole number of seconds ≥ ${min}`);
  return n;
}

export default defineCommand({
  meta: {
    name: "tests-cronjob-runner",
    description: "Runs the test suite under a lock and writes the tests status page (FRESHNESS_DIR/all_tests_cronjob_fresh.html and .json); the command gets $JUNIT_REPORT for its JUnit report. Skips (exit 0) while the last run is younger than --min-interval. Exit 0 passed or skipped, 1 failed or timed out, 2 could not run.",
  },
  args: {
    ...configArgs(SETTINGS),
    cmd: { type: "string", description: "test command for sh -c (default: this project's suite: bun test --reporter=junit --reporter-outfile=\"$JUNIT_REPORT\")" },
    dir: { type: "string", description: "directory the command runs in (default: the source checkout when run from source, else the current directory)" },
    timeout: { type: "string", description: "seconds before the command's process group is killed and the run is `timed out` (default 600)" },
    "stale-after": { type: "string", description: "seconds after a run's end when its page counts as stale (default 3600)" },
    history: { type: "string", description: "runs kept in the page's history (default 10)" },
    "min-interval": { type: "string", description: "seconds: skip (exit 0) when the last run finished less than this ago, so an every-minute crontab line does not run the suite back to back (default 900; 0 never skips)" },
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
      minIntervalMs: seconds(args["min-interval"], "min-interval", 900, 0) * 1000,
    });
  }),
});
