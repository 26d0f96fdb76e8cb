import type { Config } from "../src/config.ts";
import { createRuntime } from "../src/runtime.ts";
import { EXIT } from "../src/cli/action.ts";
import { summarize } from "./summary.ts";

/** `app cron-runner --local`: one tick in this process, for hosts that run no server. */
export async function runLocalTick(config: Config, { limit }: { limit?: number | undefined }): Promise<number> {
  const runtime = await createRuntime(config);
  try {
    const result = await runtime.runner.runDueJobs({ limit });
    process.stdout.write(`${summarize(result)}\n`);
    return result.failed + result.timedOut > 0 ? EXIT.FAILED : EXIT.OK;
  } finally {
    await runtime.store.close();
  }
}
