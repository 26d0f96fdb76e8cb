/**
 * `app serve` with the test job types (sleep, fail, hang, journal) registered, for the fault
 * suite's real server processes: the configuration comes from the environment as in `app serve`,
 * and the server runs through the production boot path (`serveRuntime`), SIGTERM handling
 * included. argv[2]: JSON `{ graceMs?, journal?, runner?: Partial<RunnerOptions> }`.
 */
import { systemClock, type Clock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import { errorMessage } from "../../src/errors.ts";
import { consoleLogger } from "../../src/logger.ts";
import { Runner, type RunnerOptions } from "../../src/runner/runner.ts";
import { resolveSecrets } from "../../src/secrets.ts";
import { serveRuntime } from "../../src/server/start.ts";
import { DbClock } from "../../src/store/db-clock.ts";
import { openStore } from "../../src/store/open-store.ts";
import { JournalJob } from "./fault-jobs.ts";
import { testRegistry } from "./jobs.ts";

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
  const store = await openStore(config);
  const registry = testRegistry(new JournalJob(options.journal ?? "/dev/null"));
  const clock: Clock = store.databaseNow ? await DbClock.start(store.databaseNow.bind(store)) : systemClock;
  const runner = new Runner({ store, registry, clock, logger: consoleLogger }, options.runner);
  await serveRuntime({ store, runner, registry, clock, logger: consoleLogger }, config, { secrets, graceMs: options.graceMs ?? 10_000 });
} catch (err) {
  process.stderr.write(`serve-with-test-jobs: ${errorMessage(err)}\n`);
  process.exit(2);
}
