/**
 * A child process for the multi-process tests: one tick against DATABASE file argv[2], with the
 * test job types registered; prints the tick's answer as JSON.
 */
import { systemClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/logger.ts";
import { Runner } from "../../src/runner/runner.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { testRegistry } from "./jobs.ts";

const [file, margin] = process.argv.slice(2);
const store = SqliteStore.open(file!);
const runner = new Runner({ store, registry: testRegistry(), clock: systemClock, logger: silentLogger },
  { runnerName: `child/${process.pid}`, leaseMarginMs: Number(margin ?? 30_000), batchSize: 50 });
process.stdout.write(`${JSON.stringify(await runner.runDueJobs())}\n`);
await store.close();
