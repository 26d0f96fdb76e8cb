import { ChangeFeed } from "./changes.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { CronJob } from "./jobs/cron-job.ts";
import { JobService } from "./jobs/job-service.ts";
import { defaultRegistry, type JobRegistry } from "./jobs/registry.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import { Runner, type RunnerOptions } from "./runner/runner.ts";
import { jobSigningSecret } from "./secrets.ts";
import { openStore } from "./store/open-store.ts";
import type { Store } from "./store/store.ts";
import { UserService, type UserServiceOptions } from "./users/users.ts";

async function startDbClock(store: Store, readDatabase: () => Promise<number>): Promise<Clock> {
  const { DbClock } = await import("./store/db-clock.ts");
  try {
    return await DbClock.start(readDatabase);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Everything a process of this app works with, built once by `createRuntime`. */
export interface Runtime {
  store: Store;
  clock: Clock;
  logger: Logger;
  registry: JobRegistry;
  /** The one change signal: services and the runner publish, the timer listens. */
  changes: ChangeFeed;
  runner: Runner;
  jobs: JobService;
  users: UserService;
  /** Starts hearing other writers of the database (`createRuntime` does this before it answers). */
  watch(): Promise<void>;
  /** Stops listening to other writers and closes the database. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Job types registered beside the built-ins (`main({ jobs })`). */
  jobs?: Iterable<CronJob<any>>;
  runner?: Partial<RunnerOptions>;
  users?: Partial<UserServiceOptions>;
  /** How long run history is kept (`HISTORY_DAYS`). */
  historyDays?: number;
  /** Defaults to the system clock, or the database's on PostgreSQL. */
  clock?: Clock;
  logger?: Logger;
}

/**
 * The composition root (`app serve`, `app cron-runner --local`, tests): store, clock, registry,
 * one change feed, the runner and the services, wired once. Changes published here reach the
 * other instances on the database, and theirs come back through the same feed.
 */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const registry = defaultRegistry(options.jobs, { jobSigningSecret: jobSigningSecret(config), httpJobAllow: config.httpJobAllow });
  const store = await openStore(config);
  const runtime = assembleRuntime(store, registry, {
    historyDays: config.historyDays,
    ...options,
    // Several hosts on one database share its clock, so they agree on when jobs are due.
    clock: options.clock ?? (store.databaseNow ? await startDbClock(store, store.databaseNow.bind(store)) : systemClock),
  });
  try {
    await runtime.watch();
  } catch (err) {
    await runtime.close();
    throw err;
  }
  return runtime;
}

/** Wires a runtime around an open store (tests bring their own store and clock). */
export function assembleRuntime(store: Store, registry: JobRegistry, options: RuntimeOptions = {}): Runtime {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? consoleLogger;
  const changes = new ChangeFeed();
  if (store.announceChange) changes.forward(store.announceChange);
  const runner = new Runner({ store, registry, clock, logger, changes }, { ...(options.historyDays ? { retentionMs: options.historyDays * 86_400_000 } : {}), ...options.runner });
  const jobs = new JobService({ store, registry, clock, changes });
  const users = new UserService({ store, clock, jobs }, options.users);
  let unwatch: (() => Promise<void>) | undefined;
  return {
    store, clock, logger, registry, changes, runner, jobs, users,
    async watch() {
      unwatch ??= await store.watchChanges?.(() => changes.receive());
    },
    async close() {
      await unwatch?.();
      await store.close();
    },
  };
}
