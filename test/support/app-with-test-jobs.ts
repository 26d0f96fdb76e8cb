/**
 * The app with the test job types (sleep, fail, hang, journal) registered, for tests that
 * need real processes: built through the product's own composition root (`createRuntime`) from
 * the environment, as `app serve` and `app cron-runner --local` build theirs.
 *
 *   bun app-with-test-jobs.ts serve '{ graceMs?, journal?, runner? }'   the production serve path
 *                                                                       (`serveRuntime`), SIGTERM handling included
 *   bun app-with-test-jobs.ts tick  '{ journal?, runner? }'             one tick, its answer printed as JSON
 */
import { loadConfig } from "../../src/config.ts";
import { errorMessage } from "../../src/errors.ts";
import type { RunnerOptions } from "../../src/runner/runner.ts";
import { createRuntime } from "../../src/runtime.ts";
import { resolveSecrets } from "../../src/secrets.ts";
import { serveRuntime } from "../../src/server/start.ts";
import { JournalJob } from "./fault-jobs.ts";
import { testJobs } from "./jobs.ts";

export interface TestAppOptions {
  graceMs?: number;
  /** File the `journal` job type appends to. */
  journal?: string;
  runner?: Partial<RunnerOptions>;
}

if (import.meta.main) {
  try {
    const [mode, json] = process.argv.slice(2);
    if (mode !== "serve" && mode !== "tick") throw new Error(`usage: app-with-test-jobs.ts serve|tick [JSON options], not ${JSON.stringify(mode)}`);
    const options = JSON.parse(json ?? "{}") as TestAppOptions;
    const config = loadConfig();
    const runtime = await createRuntime(config, { jobs: testJobs(new JournalJob(options.journal ?? "/dev/null")), runner: options.runner });
    if (mode === "serve") {
      await serveRuntime(runtime, config, { secrets: resolveSecrets(config, { generate: true }), graceMs: options.graceMs ?? 10_000 });
    } else {
      try {
        process.stdout.write(`${JSON.stringify(await runtime.runner.runDueJobs())}\n`);
      } finally {
        await runtime.close();
      }
    }
  } catch (err) {
    process.stderr.write(`app-with-test-jobs: ${errorMessage(err)}\n`);
    process.exit(2);
  }
}
