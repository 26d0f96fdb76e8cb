import { defineCommand } from "citty";
import { loadConfig } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { action } from "../action.ts";
import { configArgs, configFlags } from "../args.ts";

const SETTINGS = ["DATABASE_URL", "DB_POOL_SIZE", "FRESHNESS_DIR"] as const;
const SOURCES = ["cron_runner", "tests", "overdue_jobs", "dead_jobs", "failing_jobs"] as const;

function seconds(value: unknown, flag: string, fallback: number): number;
function seconds(value: unknown, flag: string, fallback: undefined): number | undefined;
function seconds(value: unknown, flag: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new AppError("INVALID_INPUT", `--${flag} must be a whole number of seconds ≥ 0`);
  return n;
}

/** A whole number ≥ 1 from a flag, or the default. */
function count(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new AppError("INVALID_INPUT", `--${flag} must be a whole number from 1 to 1000`);
  return n;
}

function httpUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\//.test(value) || !URL.canParse(value)) throw new AppError("INVALID_INPUT", `--${flag} must be an http(s) URL`);
  return value;
}

export default defineCommand({
  meta: {
    name: "notify-stale",
    description: "Freshness watchdog: notifies when the cron runner, the tests page or the jobs in the database (overdue, dead, recurring ones failing run after run) go stale or recover, and reminds while stale. Exit 0 nothing stale (fresh, or not reported yet), 1 something stale, 2 could not check.",
  },
  args: {
    ...configArgs(SETTINGS),
    webhook: { type: "string", description: "URL that receives a JSON POST { text, events } per message (Slack/Mattermost-style incoming webhooks read text)" },
    command: { type: "string", description: "shell command (sh -c) that receives each message on stdin; exit 0 means delivered" },
    stderr: { type: "boolean", default: true, description: "also write each message to stderr (crontab mails it); --no-stderr to stop" },
    ping: { type: "string", description: "heartbeat URL fetched (GET) after every completed check, for an outside monitor of this watchdog" },
    "remind-every": { type: "string", description: "seconds between reminders while something stays stale (default 3600)" },
    "cron-runner-max-age": { type: "string", description: "seconds without a tick answered to app cron-runner before it is stale (default 300)" },
    "tests-max-age": { type: "string", description: "seconds since the last test run before it is stale (default: the page's own stale-after)" },
    "overdue-grace": { type: "string", description: "seconds an active job may be past due before it is overdue (default 300)" },
    failures: { type: "string", description: "runs in a row that failed or timed out before a recurring job is failing (default 3)" },
    skip: { type: "string", description: `comma-separated sources not to check: ${SOURCES.join(", ")}` },
    verbose: { type: "boolean", description: "print every check on stdout" },
  },
  run: ({ args }) => action(async () => {
    const config = loadConfig(configFlags(args, SETTINGS));
    const skip = new Set((args.skip ?? "").split(",").map((s) => s.trim()).filter(Boolean));
    for (const name of skip) {
      if (!(SOURCES as readonly string[]).includes(name)) throw new AppError("INVALID_INPUT", `--skip: unknown source "${name}" (one of ${SOURCES.join(", ")})`);
    }
    const remindEvery = seconds(args["remind-every"], "remind-every", 3600);
    if (remindEvery < 60) throw new AppError("INVALID_INPUT", "--remind-every must be at least 60 seconds");
    const { runNotifyStale } = await import("../../../scripts_server/notify-stale.ts");
    return runNotifyStale(config, {
      limits: {
        cronRunnerMaxAgeSeconds: seconds(args["cron-runner-max-age"], "cron-runner-max-age", 300),
        testsMaxAgeSeconds: seconds(args["tests-max-age"], "tests-max-age", undefined),
        overdueGraceSeconds: seconds(args["overdue-grace"], "overdue-grace", 300),
        failures: count(args.failures, "failures", 3),
      },
      remindEveryMs: remindEvery * 1000,
      webhook: httpUrl(args.webhook, "webhook"),
      command: args.command,
      stderr: args.stderr !== false,
      ping: httpUrl(args.ping, "ping"),
      skip: skip as Set<(typeof SOURCES)[number]>,
      verbose: args.verbose === true,
    });
  }),
});
