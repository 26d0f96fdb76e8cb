import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { defaultRegistry, type JobRegistry } from "./jobs/registry.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import { Runner, type RunnerOptions } from "./runner/runner.ts";
import { openStore } from "./store/open-store.ts";
import type { Store } from "./store/store.ts";

export interface Runtime {
  store: Store;
  runner: Runner;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
}

/** The composition root shared by `app serve` and `app cron-runner --local`. */
export async function createRuntime(config: Config, options: Partial<RunnerOptions> = {}): Promise<Runtime> {
  const store = await openStore(config);
  const registry = defaultRegistry();
  const clock = systemClock;
  const logger = consoleLogger;
  const runner = new Runner({ store, registry, clock, logger }, options);
  return { store, runner, registry, clock, logger };
}
