import { ManualClock } from "../../src/clock.ts";
import { defaultRegistry, type JobRegistry } from "../../src/jobs/registry.ts";
import { silentLogger } from "../../src/logger.ts";
import { Runner, type RunnerOptions } from "../../src/runner/runner.ts";
import type { Store } from "../../src/store/store.ts";
import { freshStore, T0 } from "./db.ts";
import { freshPgStore, PG_ADMIN_URL, probePostgres } from "./pg.ts";

/**
 * The backends the shared store/runner/HTTP suites run on. Each case gives a fresh, migrated,
 * empty database per call and cleans it up after the test.
 */
export interface BackendCase {
  name: "sqlite" | "postgres";
  /** A fresh migrated database for one test; closed/dropped after it. */
  open(): Promise<{ store: Store; databaseUrl: string }>;
}

export const sqliteBackend: BackendCase = {
  name: "sqlite",
  async open() {
    const { store, file } = freshStore();
    return { store, databaseUrl: file };
  },
};

export const postgresBackend: BackendCase = {
  name: "postgres",
  async open() {
    const { store, url } = await freshPgStore();
    return { store, databaseUrl: url };
  },
};

// TEST_DATABASE_URL asks for PostgreSQL: then its suites run (and fail loudly if it does not answer).
const postgresAnswers = Boolean(process.env.TEST_DATABASE_URL) || await probePostgres();
if (!postgresAnswers) {
  console.warn(`\n[tests] PostgreSQL suites SKIPPED: no server answers at ${PG_ADMIN_URL.replace(/\/\/[^@/]*@/, "//…@")} (set TEST_DATABASE_URL to run them)\n`);
}

/** Whether the PostgreSQL-only suites (test/pg) can run. */
export const postgresAvailable = postgresAnswers;

export const backends: BackendCase[] = postgresAnswers ? [sqliteBackend, postgresBackend] : [sqliteBackend];

/** A runner over a fresh database of `backend` and a manual clock at `T0`. */
export async function runnerOn(backend: BackendCase, options: Partial<RunnerOptions> = {}, registry: JobRegistry = defaultRegistry()) {
  const { store, databaseUrl } = await backend.open();
  const clock = new ManualClock(T0);
  const runner = new Runner({ store, registry, clock, logger: silentLogger }, { runnerName: "test/1", ...options });
  return { store, databaseUrl, clock, runner, registry };
}
