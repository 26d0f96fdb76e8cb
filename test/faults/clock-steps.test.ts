import { expect, test } from "bun:test";
import type { ManualClock } from "../../src/clock.ts";
import type { CronJob, JobContext } from "../../src/jobs/cron-job.ts";
import { backends, describeOn, runnerOn } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import { addJob, GateJob, RecordJob, testRegistry } from "../support/jobs.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Steps the runner's clock by `payload.ms` while it runs (the host's clock jumping mid-job). */
class StepClockJob implements CronJob {
  readonly type = "step_clock";
  readonly description = "Moves the manual clock while running.";
  async run({ clock, payload }: JobContext) {
    (clock as ManualClock).advance((payload as { ms: number }).ms);
  }
}

for (const backend of backends) {
  describeOn(backend, `clock steps (${backend.name})`, () => {
    const setup = (record = new RecordJob(), gate = new GateJob()) =>
      runnerOn(backend, { abortGraceMs: 50 }, testRegistry(record, new StepClockJob(), gate)).then((s) => ({ ...s, record, gate }));
    const historyOf = async (store: Awaited<ReturnType<typeof setup>>["store"], jobId: number) =>
      (await store.listRuns({ limit: 100, jobId })).items;

    test("stepped back one hour: nothing runs again, and each later slot runs once when its time comes", async () => {
      const { store, runner, clock, record } = await setup();
      const interval = await addJob(store, T0, { name: "every-5m", jobType: "record", intervalMinutes: 5, nextRunAt: new Date(T0) });
      const cron = await addJob(store, T0, { name: "cron-5m", jobType: "record", cron: "*/5 * * * *", timezone: "UTC", nextRunAt: new Date(T0) });
      const once = await addJob(store, T0, { name: "once", jobType: "record", runAt: new Date(T0) });
      const failing = await addJob(store, T0, { name: "retrying", jobType: "fail", runAt: new Date(T0) });
      expect((await runner.runDueJobs()).claimed).toBe(4);

      // Tick every minute through the hour the clock lives twice: nothing is due again.
      for (let at = T0 - HOUR; at <= T0; at += MIN) {
        clock.set(at);
        expect((await runner.runDueJobs()).claimed).toBe(0);
      }
      clock.set(T0 + 30_000 - 1); // the failed job's retry (at T0 + 30 s) is not brought forward either
      expect((await runner.runDueJobs()).claimed).toBe(0);
      clock.set(T0 + 5 * MIN);
      const tick = await runner.runDueJobs();
      expect(tick.results.map((r) => r.name).sort()).toEqual(["cron-5m", "every-5m", "retrying"]);

      expect(record.seen.filter((id) => id === interval.id)).toHaveLength(2);
      expect(record.seen.filter((id) => id === cron.id)).toHaveLength(2);
      expect(record.seen.filter((id) => id === once.id)).toHaveLength(1);
      expect((await historyOf(store, failing.id)).map((r) => r.startedAt.getTime())).toEqual([T0 + 5 * MIN, T0]);
      for (const job of [interval, cron]) {
        expect((await store.getJob(job.id))!.nextRunAt?.getTime()).toBe(T0 + 10 * MIN);
      }
    });

    test("stepped back one hour while a job runs: its next slot is still after the one it ran", async () => {
      const { store, runner, clock } = await setup();
      const job = await addJob(store, T0, { name: "stepper", jobType: "step_clock", payload: JSON.stringify({ ms: -HOUR }), intervalMinutes: 5, nextRunAt: new Date(T0) });
      expect((await runner.runDueJobs()).succeeded).toBe(1);
      expect(clock.now()).toBe(T0 - HOUR);
      const row = (await store.getJob(job.id))!;
      expect(row.nextRunAt?.getTime()).toBe(T0 + 5 * MIN);
      expect(row.lockedBy).toBeNull();
      clock.set(T0);
      expect((await runner.runDueJobs()).claimed).toBe(0);
    });

    test("stepped forward one day: each recurring job runs once (misfire policy), the next slot stays on its grid", async () => {
      const { store, runner, clock, record } = await setup();
      const interval = await addJob(store, T0, { name: "every-10m", jobType: "record", intervalMinutes: 10, nextRunAt: new Date(T0) });
      const hourly = await addJob(store, T0, { name: "hourly", jobType: "record", cron: "0 * * * *", timezone: "UTC", nextRunAt: new Date(T0) });
      const once = await addJob(store, T0, { name: "in-an-hour", jobType: "record", runAt: new Date(T0 + HOUR) });
      expect((await runner.runDueJobs()).claimed).toBe(2);

      clock.set(T0 + DAY + 7 * MIN); // 144 interval slots and 24 hourly matches missed
      const tick = await runner.runDueJobs();
      expect(tick.results.map((r) => r.name).sort()).toEqual(["every-10m", "hourly", "in-an-hour"]);
      expect((await runner.runDueJobs()).claimed).toBe(0);
      expect((await store.getJob(interval.id))!.nextRunAt?.getTime()).toBe(T0 + DAY + 10 * MIN);
      expect((await store.getJob(hourly.id))!.nextRunAt?.getTime()).toBe(T0 + DAY + HOUR);
      expect(await store.getJob(once.id)).toBeUndefined();
      expect(record.seen.filter((id) => id === interval.id)).toHaveLength(2);
      expect(record.seen.filter((id) => id === hourly.id)).toHaveLength(2);
      expect(record.seen.filter((id) => id === once.id)).toHaveLength(1);
      const runs = await historyOf(store, interval.id);
      expect(runs.map((r) => r.scheduledFor?.getTime())).toEqual([T0 + 10 * MIN, T0]);
    });

    test("stepped forward one day while a job runs: its lease has passed, so a second copy may start, and the first one's finish is fenced", async () => {
      const { store, runner, clock, gate } = await setup();
      const job = await addJob(store, T0, { name: "long", jobType: "gate", intervalMinutes: 60, nextRunAt: new Date(T0) });
      const first = runner.runDueJobs();
      await gate.started("long"); // the first run is under way
      clock.advance(DAY);
      const pending = runner.runDueJobs();
      await gate.started("long", 2); // a second copy runs beside it: the first one's lease had passed
      gate.open(); // both runs end
      const second = await pending;
      expect(second.results.map((r) => [r.id, r.status])).toEqual([[job.id, "succeeded"]]);
      const firstTick = await first;
      expect(firstTick.results.map((r) => [r.id, r.status])).toEqual([[job.id, "lease_lost"]]);
      // The row holds what the second run decided; both runs are in the history.
      const row = (await store.getJob(job.id))!;
      expect(row).toMatchObject({ lockedBy: null, attempts: 0 });
      expect(row.nextRunAt?.getTime()).toBe(T0 + DAY + HOUR);
      expect((await historyOf(store, job.id)).map((r) => r.runId).sort()).toEqual([firstTick.runId, second.runId].sort());
    });

    test("DST fall back (America/New_York): a job at 01:30 local runs once in the repeated hour", async () => {
      const { store, runner, clock, record } = await setup();
      // 2026-11-01 01:30 EDT (05:30 UTC) comes first; 01:30 EST (06:30 UTC) must not run again.
      const first = Date.parse("2026-11-01T05:30:00Z");
      const job = await addJob(store, first, { name: "nightly", jobType: "record", cron: "30 1 * * *", timezone: "America/New_York", nextRunAt: new Date(first) });
      for (let at = first - 10 * MIN; at <= first + 3 * HOUR; at += 10 * MIN) {
        clock.set(at);
        await runner.runDueJobs();
      }
      expect(record.seen).toEqual([job.id]);
      expect((await store.getJob(job.id))!.nextRunAt?.toISOString()).toBe("2026-11-02T06:30:00.000Z");
    });
  });
}
