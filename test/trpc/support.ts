import { expect } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { builtinJobs, JobRegistry } from "../../src/jobs/registry.ts";
import type { ServerDeps } from "../../src/server/deps.ts";
import { createControlPlane, type ControlPlane } from "../../src/trpc/context.ts";
import { createCaller } from "../../src/trpc/router.ts";
import { freshStore, T0, tempDir } from "../support/db.ts";
import { testRuntime } from "../support/runtime.ts";

export const ADMIN_TOKEN = "admin-token-0123456789abcdef";
export const CRON_SECRET = "cron-secret-0123456789abcdef";

/** Server dependencies over a fresh database, a manual clock at `T0`, and a count of timer pokes. */
export function freshDeps(extraJobs: CronJob<any>[] = []) {
  const { store, file } = freshStore();
  const clock = new ManualClock(T0);
  const registry = new JobRegistry([...builtinJobs(), ...extraJobs]);
  const runtime = testRuntime(store, { clock, registry });
  const pokes = { count: 0 };
  runtime.changes.subscribe(() => { pokes.count++; });
  const deps: ServerDeps = { ...runtime, secrets: { cronSecret: CRON_SECRET, adminToken: ADMIN_TOKEN }, freshnessDir: tempDir() };
  return { deps, store, file, clock, runner: runtime.runner, registry, pokes };
}

/** A caller of the router as the admin, over `freshDeps`. */
export function freshCaller(extraJobs: CronJob<any>[] = []) {
  const env = freshDeps(extraJobs);
  const plane: ControlPlane = createControlPlane(env.deps);
  const as = (token: string | undefined) => createCaller({ plane, token });
  return { ...env, plane, caller: as(ADMIN_TOKEN), as };
}

/** A job type whose runs wait until `release()`: for "the job is running now" cases. */
export function blockingJob(type = "blocking") {
  let release!: () => void;
  let started!: () => void;
  const gate = { released: new Promise<void>((r) => { release = r; }), started: new Promise<void>((r) => { started = r; }) };
  const job: CronJob = {
    type,
    description: "Waits until released.",
    async run() {
      started();
      await gate.released;
    },
  };
  return { job, release: () => release(), started: gate.started };
}

/** A job type that always fails. */
export const failingJob: CronJob = {
  type: "failing",
  description: "Always fails.",
  async run() {
    throw new Error("boom");
  },
};

export { T0 };

/** Awaits a call that must fail with the tRPC `code`, and a message matching `message`. */
export async function rejects(call: Promise<unknown>, code: string, message?: RegExp | string): Promise<Error & { code: string }> {
  let error: unknown;
  try {
    await call;
  } catch (err) {
    error = err;
  }
  if (!(error instanceof Error)) throw new Error(`expected a ${code} error, but the call succeeded`);
  expect((error as { code?: string }).code).toBe(code);
  if (typeof message === "string") expect(error.message).toContain(message);
  else if (message) expect(error.message).toMatch(message);
  return error as Error & { code: string };
}
