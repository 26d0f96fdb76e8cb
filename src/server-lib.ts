/**
 * The server as a library (`cronjobs/server`, SPEC §3.1): a team's own job types beside the
 * built-ins, in the very same CLI, compiled into their own single binary.
 *
 *   import { defineJob, main, z } from "cronjobs/server";
 *   await main({ jobs: [defineJob({ type: "send_digest", description: "…", run: async (ctx) => { … } })] });
 *
 * Bun only (the server uses bun:sqlite and Bun's HTTP server); `bun build --compile` of that
 * file is the binary.
 */
import type { z } from "zod";
import { runApp } from "./cli/index.ts";
import type { CronJob, JobContext } from "./jobs/cron-job.ts";
import { builtinJobTypes } from "./jobs/registry.ts";

export { z } from "zod";
export type { CronJob, JobContext };
export type { CronJobRecord as JobRecord } from "./store/store.ts";

export interface JobDefinition<P> {
  /** The `job_type` rows name it by: letters, digits, `_`, `-`, `.`, `:` (at most 200). */
  type: string;
  /** One line, shown by `app jobs types` and the dashboard. */
  description: string;
  /** Checks the row's payload (at create, and before each run); without one the job takes no payload. */
  payloadSchema?: z.ZodType<P>;
  /**
   * The work. Runs are at least once: make it idempotent. Honour `ctx.signal` (timeout, cancel,
   * shutdown); `ctx.log(…)` lines become the run's output.
   */
  run(ctx: JobContext<P>): Promise<void>;
}

const TYPE_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/** A job type from a plain object; a bad definition throws at once, naming what is wrong. */
export function defineJob<P = unknown>(definition: JobDefinition<P>): CronJob<P> {
  const { type, description, payloadSchema, run } = definition;
  if (typeof type !== "string" || !TYPE_NAME.test(type)) {
    throw new TypeError(`defineJob: type ${JSON.stringify(type)} must be 1 to 200 letters, digits, _ - . or :`);
  }
  if (typeof description !== "string" || description.trim() === "") throw new TypeError(`defineJob(${type}): description must be a non-empty string`);
  if (typeof run !== "function") throw new TypeError(`defineJob(${type}): run must be a function`);
  if (payloadSchema !== undefined && typeof (payloadSchema as { safeParse?: unknown }).safeParse !== "function") {
    throw new TypeError(`defineJob(${type}): payloadSchema must be a zod schema`);
  }
  return Object.freeze({ type, description, ...(payloadSchema ? { payloadSchema } : {}), run });
}

export interface MainOptions {
  /** Job types registered beside the built-ins (`noop`, `http`, …); a name may be used once. */
  jobs?: readonly CronJob<any>[];
}

/**
 * Runs the `app` CLI on `process.argv` — `serve`, `cron-runner`, `jobs`, every subcommand —
 * with `jobs` registered beside the built-ins.
 */
export async function main({ jobs = [] }: MainOptions = {}): Promise<void> {
  const taken = new Set(builtinJobTypes());
  for (const job of jobs) {
    if (taken.has(job.type)) {
      process.stderr.write(`app: job type "${job.type}" is ${builtinJobTypes().includes(job.type) ? "built in" : "given twice"}: give your job another type\n`);
      process.exit(2);
    }
    taken.add(job.type);
  }
  await runApp({ jobs });
}
