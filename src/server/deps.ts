import type { Clock } from "../clock.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { Logger } from "../logger.ts";
import type { Runner } from "../runner/runner.ts";
import type { Secrets } from "../secrets.ts";
import type { Store } from "../store/store.ts";

/** Everything the HTTP server needs, built once by `app serve` (or by a test). */
export interface ServerDeps {
  store: Store;
  runner: Runner;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  secrets: Secrets;
  /** Where the freshness markers and the tests status page live. */
  freshnessDir: string;
  /** Called after jobs change through the server, so the timer looks again. */
  onJobsChanged: () => void;
}
