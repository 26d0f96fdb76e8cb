import { ChangeFeed } from "./changes.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { CronJob } from "./jobs/cron-job.ts";
import { JobService } from "./jobs/job-service.ts";
import { defaultRegistry, JobRegistry } from "./jobs/registry.ts";
import { NoopJob } from "./jobs/noop-job.ts";
import { consoleLogger, silentLogger, type Logger } from "./logger.ts";
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

/** Jobs `warmUp` runs: half recurring (cron, rescheduled), half one-time (deleted). */
export const WARM_UP_JOBS = 2_000;

/**
 * Runs the run path once on a private in-memory database before `app serve` takes work, as a
 * JVM service warms up before it takes traffic: `WARM_UP_JOBS` no-op jobs due now, claimed,
 * run and recorded by a runtime of its own whose runner has the server's options. The engine
 * compiles code over its first few hundred calls: without this, the first burst after a start
 * ran its jobs about 3× slower than later ones (1,000 cron jobs due in the same second: p50
 * 15–24 ms against 11–23 for a later burst on this host; 7–17 ms with it; docs/performance.md).
 * Nothing of it reaches the server's database, metrics, log or change feed. Answers the jobs run.
 */
export async function warmUp(options: Partial<RunnerOptions>): Promise<number> {
  const { SqliteStore } = await import("./store/sqlite-store.ts");
  const store = SqliteStore.open(":memory:");
  const runtime = assembleRuntime(store, new JobRegistry([new NoopJob()]), { logger: silentLogger, runner: { ...options, runnerName: "warm-up" } });
  try {
    const now = runtime.clock.now();
    const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, cron, run_at, next_run_at) VALUES (?, 'noop', ?, ?, ?)");
    store.client.transaction(() => {
      for (let i = 0; i < WARM_UP_JOBS; i++) {
        if (i % 2 === 0) insert.run(`warm-up-${i}`, "0 0 0 * * *", null, now);
        else insert.run(`warm-up-${i}`, null, now, now);
      }
    })();
    return (await runtime.runner.runDueJobs()).succeeded;
  } finally {
    await runtime.close();
  }
}
