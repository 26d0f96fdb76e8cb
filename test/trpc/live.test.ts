import { describe, expect, test } from "bun:test";
import { createClient } from "../../src/client.ts";
import { systemClock } from "../../src/clock.ts";
import { defaultRegistry } from "../../src/jobs/registry.ts";
import { TickTimer } from "../../src/runner/tick-timer.ts";
import { buildApp } from "../../src/server/app.ts";
import { freshStore, onCleanup, tempDir } from "../support/db.ts";
import { waitUntil } from "../support/server-process.ts";
import { ADMIN_TOKEN, CRON_SECRET } from "./support.ts";
import { testRuntime } from "../support/runtime.ts";

/** A real server with its own timer (as `app serve` wires it), on the system clock. */
async function serverWithTimer() {
  const { store } = freshStore();
  const runtime = testRuntime(store, { clock: systemClock, registry: defaultRegistry(), runner: { runnerName: "test/live" } });
  const { runner } = runtime;
  const scheduler = new TickTimer(runtime);
  const app = buildApp({ ...runtime, freshnessDir: tempDir(), secrets: { cronSecret: CRON_SECRET, adminToken: ADMIN_TOKEN } })
    .listen({ hostname: "127.0.0.1", port: 0 });
  scheduler.start();
  onCleanup(async () => {
    scheduler.stop();
    await app.stop(true);
    await runner.shutdown(1_000);
  });
  // Once the start-up tick is over (nothing due), the timer sleeps for its full minute: a run
  // before that minute is over can only come from the timer re-armed by the change.
  expect(await waitUntil(() => runner.metrics.ticks >= 1, 10_000, 5)).toBe(true);
  const minuteTickAt = systemClock.now() + 60_000;
  return { store, runner, minuteTickAt, client: createClient({ url: `http://127.0.0.1:${app.server!.port}`, token: ADMIN_TOKEN }) };
}

type Client = Awaited<ReturnType<typeof serverWithTimer>>["client"];

/** When the job's first run started, waiting at most `withinMs` (well below the minute); undefined if it did not run. */
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
  test("a job created through tRPC due in 2 s runs when it comes due, not at the next minute", async () => {
    const { client, minuteTickAt } = await serverWithTimer();
    const dueAt = systemClock.now() + 2_000;
    const job = await client.jobs.create.mutate({ name: "noop", runAt: new Date(dueAt) });
    const started = await firstRunStart(client, job.id, 30_000);
    expect(started).toBeDefined();
    expect(started!).toBeGreaterThanOrEqual(dueAt); // never early
    expect(started!).toBeLessThan(minuteTickAt); // the timer was re-armed for it
  });

  test("an update brings a job forward; a pause holds it; a resume runs it", async () => {
    const { client, runner, minuteTickAt } = await serverWithTimer();
    const far = await client.jobs.create.mutate({ name: "far", jobType: "noop", runAt: new Date(systemClock.now() + 3_600_000) });
    const movedTo = systemClock.now() + 500;
    await client.jobs.update.mutate({ id: far.id, runAt: new Date(movedTo) });
    const started = await firstRunStart(client, far.id, 30_000);
    expect(started).toBeDefined();
    expect(started!).toBeGreaterThanOrEqual(movedTo);
    expect(started!).toBeLessThan(minuteTickAt);

    // Paused while far off, then moved to come due: a tick after its due time leaves it alone.
    const held = await client.jobs.create.mutate({ name: "held", jobType: "noop", runAt: new Date(systemClock.now() + 3_600_000) });
    await client.jobs.pause.mutate({ id: held.id });
    const heldDue = systemClock.now() + 300;
    await client.jobs.update.mutate({ id: held.id, runAt: new Date(heldDue) });
    expect(await waitUntil(() => systemClock.now() > heldDue, 5_000, 10)).toBe(true);
    expect((await runner.runDueJobs()).results.map((r) => r.id)).not.toContain(held.id);
    expect((await client.runs.list.query({ jobId: held.id })).items).toEqual([]);
    const resumedAt = systemClock.now();
    await client.jobs.resume.mutate({ id: held.id });
    const resumedRun = await firstRunStart(client, held.id, 30_000);
    expect(resumedRun).toBeDefined();
    expect(resumedRun!).toBeGreaterThanOrEqual(resumedAt - 1); // it ran because of the resume
    expect(resumedRun!).toBeLessThan(minuteTickAt);
  });
});
