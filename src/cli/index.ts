#!/usr/bin/env bun
import type { CommandDef } from "citty";
import { VERSION } from "../version.ts";
import { setCliContext, type CliContext } from "./context.ts";

/**
 * The `app` binary. Subcommands load lazily: `app cron-runner` never loads the server or the
 * ORM. A plain object (citty's `defineCommand` returns its argument), so that citty itself
 * loads only when a command goes through it.
 */
const main: CommandDef<any> = {
  meta: { name: "app", version: VERSION, description: "Runs database-defined cron jobs for a web application." },
  subCommands: {
    serve: () => import("./commands/serve.ts").then((m) => m.default),
    migrate: () => import("./commands/migrate.ts").then((m) => m.default),
    "cron-runner": () => import("./commands/cron-runner.ts").then((m) => m.default),
    "tests-cronjob-runner": () => import("./commands/tests-cronjob-runner.ts").then((m) => m.default),
    "notify-stale": () => import("./commands/notify-stale.ts").then((m) => m.default),
    crontab: () => import("./commands/crontab.ts").then((m) => m.default),
    jobs: () => import("./commands/jobs.ts").then((m) => m.default),
  },
};

/** Runs the CLI on `process.argv`, its commands running `context.jobs` beside the built-ins. */
export async function runApp(context: CliContext = { jobs: [] }): Promise<void> {
  setCliContext(context);
  const argv = process.argv.slice(2);
  // Started by crontab every minute: a plain `app cron-runner …` runs before citty loads.
  if (argv[0] === "cron-runner") {
    const { runCronRunnerFast } = await import("./commands/cron-runner-fast.ts");
    if (await runCronRunnerFast(argv.slice(1))) return;
  }
  const { runCli } = await import("./run-cli.ts");
  await runCli(main);
}

if (import.meta.main) await runApp();
