import type { Runtime } from "../runtime.ts";
import type { Secrets } from "../secrets.ts";

/** Everything the HTTP server needs: the runtime `createRuntime` built, its secrets and folders. */
export interface ServerDeps extends Omit<Runtime, "close" | "watch"> {
  secrets: Secrets;
  /** Where the freshness markers and the tests status page live. */
  freshnessDir: string;
}
