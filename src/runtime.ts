import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { CronJob } from "./jobs/cron-job.ts";
import { defaultRegistry, type JobRegistry } from "./jobs/registry.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import { Runner, type RunnerOptions } from "./runner/runner.ts";
import { resolveSecrets } from "./secrets.ts";
import { openStore } from "./store/open-store.ts";
import type { Store } from "./store/store.ts";

async function startDbClock(store: Store, readDatabase: () => Promise<number>): Promise<Clock> {
  const { DbClock } = await import("./store/db-clock.ts");
  try {
    return await DbClock.start(readDatabase);
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface Runtime {
  store: Store;
  runner: Runner;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
}

export interface RuntimeOptions {
  /** Job types registered beside the built-ins (`main({ jobs })`). */
  jobs?: Iterable<CronJob<any>>;
  runner?: Partial<RunnerOptions>;
}

/** The composition root shared by `app serve` and `app cron-runner --local`. */
export async function createRuntime(config: Config, { jobs = [], runner: options = {} }: RuntimeOptions = {}): Promise<Runtime> {
  const registry = defaultRegistry(jobs, { jobSigningSecret: resolveSecrets(config, { generate: true }).jobSigningSecret, httpJobAllow: config.httpJobAllow });
  const store = await openStore(config);
  // Several hosts on one database share its clock, so they agree on when jobs are due.
  const clock: Clock = store.databaseNow ? await startDbClock(store, store.databaseNow.bind(store)) : systemClock;
  const logger = consoleLogger;
  const runner = new Runner({ store, registry, clock, logger }, { retentionMs: config.historyDays * 86_400_000, ...options });
  return { store, runner, registry, clock, logger };
}
