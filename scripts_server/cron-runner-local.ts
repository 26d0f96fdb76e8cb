import type { Config } from "../src/config.ts";
import type { CronJob } from "../src/jobs/cron-job.ts";
import { createRuntime } from "../src/runtime.ts";
import { EXIT } from "../src/exit-codes.ts";
import { summarize } from "./summary.ts";

/** `app cron-runner --local`: one tick in this process, for hosts that run no server. */
export async function runLocalTick(config: Config, { limit, jobs = [] }: { limit?: number | undefined; jobs?: Iterable<CronJob<any>> }): Promise<number> {
  const runtime = await createRuntime(config, { jobs });
  try {
    // Nobody ticks after this process: it derives every row written by hand, not a tick's share.
    const result = await runtime.runner.runDueJobs({ limit, deriveMs: Number.POSITIVE_INFINITY });
    process.stdout.write(`${summarize(result)}\n`);
    return result.failed + result.timedOut > 0 ? EXIT.FAILED : EXIT.OK;
  } finally {
    await runtime.close();
  }
}
