/**
 * `app serve` with the test job types (sleep, fail, hang, journal) registered, for the fault
 * suite's real server processes: the configuration comes from the environment as in `app serve`,
 * and the server runs through the production boot path (`serveRuntime`), SIGTERM handling
 * included. argv[2]: JSON `{ graceMs?, journal?, runner?: Partial<RunnerOptions> }`.
 */
import { loadConfig } from "../../src/config.ts";
import { errorMessage } from "../../src/errors.ts";
import type { RunnerOptions } from "../../src/runner/runner.ts";
import { createRuntime } from "../../src/runtime.ts";
import { resolveSecrets } from "../../src/secrets.ts";
import { serveRuntime } from "../../src/server/start.ts";
import { JournalJob } from "./fault-jobs.ts";
import { testJobs } from "./jobs.ts";

export interface TestServeOptions {
  graceMs?: number;
  /** File the `journal` job type appends to. */
  journal?: string;
  runner?: Partial<RunnerOptions>;
}

try {
  const options = JSON.parse(process.argv[2] ?? "{}") as TestServeOptions;
  const config = loadConfig();
  const secrets = resolveSecrets(config, { generate: true });
  const runtime = await createRuntime(config, { jobs: testJobs(new JournalJob(options.journal ?? "/dev/null")), runner: options.runner });
  await serveRuntime(runtime, config, { secrets, graceMs: options.graceMs ?? 10_000 });
} catch (err) {
  process.stderr.write(`serve-with-test-jobs: ${errorMessage(err)}\n`);
  process.exit(2);
}
