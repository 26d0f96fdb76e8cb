import type { Actor } from "../../src/actor.ts";
import { ManualClock, type Clock } from "../../src/clock.ts";
import type { JobRegistry } from "../../src/jobs/registry.ts";
import { silentLogger, type Logger } from "../../src/logger.ts";
import type { RunnerOptions } from "../../src/runner/runner.ts";
import { assembleRuntime, type Runtime } from "../../src/runtime.ts";
import type { Store } from "../../src/store/store.ts";
import { T0 } from "./db.ts";
import { testRegistry } from "./jobs.ts";

/** The author tests give the services' changes when no token is involved: `test (client)` in the audit log. */
export const TEST_ACTOR: Actor = { name: "test", role: "admin", client: "client" };

export interface TestRuntimeOptions<C extends Clock> {
  /** Default: a manual clock at `T0`. */
  clock?: C;
  /** Default: the built-ins and the test job types (test/support/jobs.ts). */
  registry?: JobRegistry;
  /** Runner options over the test default name `test/1`. */
  runner?: Partial<RunnerOptions>;
  /** Default: silent. */
  logger?: Logger;
}

/**
 * The one way tests build an in-process runtime (runner, services, change feed) over a store
 * they opened: the product's own `assembleRuntime`, with a manual clock, a silent logger and
 * the test job types unless told otherwise. Server processes go through `createRuntime`
 * (test/support/app-with-test-jobs.ts, `app serve`); both are wired by the same code.
 */
export function testRuntime<C extends Clock = ManualClock>(store: Store, options: TestRuntimeOptions<C> = {}): Runtime & { clock: C } {
  const clock = options.clock ?? (new ManualClock(T0) as Clock as C);
  const runtime = assembleRuntime(store, options.registry ?? testRegistry(), {
    clock, logger: options.logger ?? silentLogger, runner: { runnerName: "test/1", ...options.runner },
  });
  return { ...runtime, clock };
}
