import { describe, expect, test } from "bun:test";
import { createClient } from "../../src/client.ts";
import { systemClock } from "../../src/clock.ts";
import { defaultRegistry } from "../../src/jobs/registry.ts";
import { silentLogger } from "../../src/logger.ts";
import { Runner } from "../../src/runner/runner.ts";
import { TickScheduler } from "../../src/runner/scheduler.ts";
import { buildApp } from "../../src/server/app.ts";
import { freshStore, onCleanup, tempDir } from "../support/db.ts";
import { ADMIN_TOKEN, CRON_SECRET } from "./support.ts";

/** A real server with its own timer (as `app serve` wires it), on the system clock. */
async function serverWithTimer() {
  const { store } = freshStore();
  const registry = defaultRegistry();
  const runner = new Runner({ store, registry, clock: systemClock, logger: silentLogger }, { runnerName: "test/live" });
  const scheduler = new TickScheduler(runner, store, systemClock, silentLogger);
  const app = buildApp({
    store, runner, registry, clock: systemClock, logger: silentLogger, freshnessDir: tempDir(),
    secrets: { cronSecret: CRON_SECRET, adminToken: ADMIN_TOKEN },
    onJobsChanged: () => scheduler.poke(),
  }).listen({ hostname: "127.0.0.1", port: 0 });
  scheduler.start();
  onCleanup(async () => {
    scheduler.stop();
    await app.stop(true);
    await runner.shutdown(1_000);
  });
  // Let the start-up tick finish, so the timer sleeps for its full minute.
  await Bun.sleep(100);
  return { store, client: createClient({ url: `http://127.0.0.1:${app.server!.port}`, token: ADMIN_TOKEN }) };
}

type Client = Awaited<ReturnType<typeof serverWithTimer>>["client"];

/** When the job's first run started, waiting at most `withinMs`; undefined if it did not run. */
async function firstRunStart(client: Client, jobId: number, withinMs: number): Promise<number | undefined> {
  const deadline = systemClock.now() + withinMs;
  while (systemClock.now() < deadline) {
    const [run] = (await client.runs.list.query({ jobId })).items;
    if (run) return Date.parse(run.startedAt);
    await Bun.sleep(20);
  }
  return undefined;
}

describe("changes take effect at once on the server's own timer", () => {
  test("a job created through tRPC due in 2 s runs within 3 s, not at the next minute", async () => {
    const { client } = await serverWithTimer();
    const createdAt = systemClock.now();
    const job = await client.jobs.create.mutate({ name: "noop", runAt: new Date(createdAt + 2_000) });
    const started = await firstRunStart(client, job.id, 3_000);
    expect(started).toBeDefined();
    expect(started! - createdAt).toBeGreaterThanOrEqual(1_990);
    expect(started! - createdAt).toBeLessThan(3_000);
  });

  test("an update brings a job forward; a pause holds it; a resume runs it", async () => {
    const { client } = await serverWithTimer();
    const far = await client.jobs.create.mutate({ name: "far", jobType: "noop", runAt: new Date(systemClock.now() + 3_600_000) });
    const movedAt = systemClock.now();
    await client.jobs.update.mutate({ id: far.id, runAt: new Date(movedAt + 500) });
    const started = await firstRunStart(client, far.id, 2_000);
    expect(started! - movedAt).toBeLessThan(1_500);

    const held = await client.jobs.create.mutate({ name: "held", jobType: "noop", runAt: new Date(systemClock.now() + 500) });
    await client.jobs.pause.mutate({ id: held.id });
    expect(await firstRunStart(client, held.id, 1_000)).toBeUndefined();
    const resumedAt = systemClock.now();
    await client.jobs.resume.mutate({ id: held.id });
    expect((await firstRunStart(client, held.id, 1_000))! - resumedAt).toBeLessThan(500);
  });
});
