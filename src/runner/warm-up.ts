import { systemClock } from "../clock.ts";
import { JobRegistry } from "../jobs/registry.ts";
import { NoopJob } from "../jobs/noop-job.ts";
import { silentLogger } from "../logger.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { Runner, type RunnerOptions } from "./runner.ts";

/** Jobs the warm-up runs: half recurring (cron, rescheduled), half one-time (deleted). */
export const WARM_UP_JOBS = 2_000;

/**
 * Runs the run path once on a private in-memory database before `app serve` takes work, as a
 * JVM service warms up before it takes traffic: `WARM_UP_JOBS` no-op jobs due now, claimed,
 * run and recorded by a runner with the server's options. The engine compiles code over its
 * first few hundred calls: without this, the first burst after a start ran its jobs about 3×
 * slower than later ones (1,000 cron jobs due in the same second: p50 15–24 ms against 11–23
 * for a later burst on this host; 7–17 ms with it; docs/performance.md). Nothing of it reaches
 * the server's database, metrics, log or change feed. Answers the jobs run.
 */
export async function warmUp(options: Partial<RunnerOptions> = {}, jobs = WARM_UP_JOBS): Promise<number> {
  const store = SqliteStore.open(":memory:");
  try {
    const now = systemClock.now();
    const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, cron, run_at, next_run_at) VALUES (?, 'noop', ?, ?, ?)");
    store.client.transaction(() => {
      for (let i = 0; i < jobs; i++) {
        if (i % 2 === 0) insert.run(`warm-up-${i}`, "0 0 0 * * *", null, now);
        else insert.run(`warm-up-${i}`, null, now, now);
      }
    })();
    const runner = new Runner({ store, registry: new JobRegistry([new NoopJob()]), clock: systemClock, logger: silentLogger }, { ...options, runnerName: "warm-up" });
    const tick = await runner.runDueJobs();
    return tick.succeeded;
  } finally {
    await store.close();
  }
}
