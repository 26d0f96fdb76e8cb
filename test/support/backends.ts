import { describe } from "bun:test";
import { defaultRegistry, type JobRegistry } from "../../src/jobs/registry.ts";
import type { RunnerOptions } from "../../src/runner/runner.ts";
import type { Store } from "../../src/store/store.ts";
import { freshStore } from "./db.ts";
import { freshPgStore, PG_ADMIN_URL, probePostgres } from "./pg.ts";
import { testRuntime } from "./runtime.ts";
import { runSlow } from "./slow.ts";

/**
 * The backends the shared store/runner/HTTP suites run on. Each case gives a fresh, migrated,
 * empty database per call and cleans it up after the test.
 */
export interface BackendCase {
  name: "sqlite" | "postgres";
  /** False only for PostgreSQL on a machine without one: its suites are then skipped, visibly and counted. */
  available: boolean;
  /** A fresh migrated database for one test; closed/dropped after it. */
  open(): Promise<{ store: Store; databaseUrl: string }>;
}

/**
 * PostgreSQL is required (its suites run, and fail loudly if it does not answer) when
 * `TEST_DATABASE_URL` names a server or in CI (`CI` set, as `.ci/run` and CI services do).
 * Elsewhere, a newcomer's machine without one skips those suites, with a notice.
 */
export const postgresRequired = Boolean(process.env.TEST_DATABASE_URL) || ["true", "1"].includes(process.env.CI ?? "");
const postgresAnswers = postgresRequired || await probePostgres();
if (!postgresAnswers) {
  console.warn(`\n*** PostgreSQL suites SKIPPED (counted as skipped): no server answers at ${PG_ADMIN_URL.replace(/\/\/[^@/]*@/, "//…@")}; `
    + "set TEST_DATABASE_URL to run them (CI requires them) ***\n");
}

/** Whether the PostgreSQL suites run on this machine. */
export const postgresAvailable = postgresAnswers;

export const sqliteBackend: BackendCase = {
  name: "sqlite",
  available: true,
  async open() {
    const { store, file } = freshStore();
    return { store, databaseUrl: file };
  },
};

export const postgresBackend: BackendCase = {
  name: "postgres",
  available: postgresAnswers,
  async open() {
    const { store, url } = await freshPgStore();
    return { store, databaseUrl: url };
  },
};

/** Both, always: a backend this machine lacks is skipped by `describeOn`, never left out of the loop. */
export const backends: BackendCase[] = [sqliteBackend, postgresBackend];

/**
 * `describe` for one backend's case of a shared suite: skipped (each test reported as skipped)
 * when the backend is not available. `slow`: also skipped unless SLOW_TESTS=1.
 */
export function describeOn(backend: BackendCase, name: string, fn: () => void, { slow = false } = {}): void {
  if (slow && !runSlow && backend.available) console.log(`[slow suite skipped] ${name} — run it with SLOW_TESTS=1 (npm run test:slow)`);
  describe.skipIf(!backend.available || (slow && !runSlow))(name, fn);
}

/** A runtime (runner, services) over a fresh database of `backend` and a manual clock at `T0` (`testRuntime`). */
export async function runnerOn(backend: BackendCase, options: Partial<RunnerOptions> = {}, registry: JobRegistry = defaultRegistry()) {
  const { store, databaseUrl } = await backend.open();
  return { ...testRuntime(store, { registry, runner: options }), store, databaseUrl };
}
