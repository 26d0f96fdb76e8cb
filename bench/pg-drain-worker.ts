/**
 * One `app serve`-like instance for bench/pg-drain.bench.ts: the real runtime (PostgreSQL store,
 * database clock, default runner options) on DATABASE_URL. Prints "ready", waits for a line on
 * stdin, drains until nothing is due, and prints the tick's counts as JSON.
 */
import { loadConfig } from "../src/config.ts";
import { createRuntime } from "../src/runtime.ts";

const runtime = await createRuntime(loadConfig(), { runner: { budgetMs: 600_000 } });
await runtime.store.ping();
process.stdout.write("ready\n");
for await (const _ of console) break;
const tick = await runtime.runner.runDueJobs();
process.stdout.write(`${JSON.stringify({ claimed: tick.claimed, succeeded: tick.succeeded, failed: tick.failed })}\n`);
await runtime.close();
