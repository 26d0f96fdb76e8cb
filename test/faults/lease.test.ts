import { expect, test } from "bun:test";
import type { ManualClock } from "../../src/clock.ts";
import type { CronJob, JobContext } from "../../src/jobs/cron-job.ts";
import { backends, describeOn, runnerOn } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import { addJob, claimFullBatches, RecordJob, testRegistry } from "../support/jobs.ts";
import { testRuntime } from "../support/runtime.ts";

/** A long job, simulated: it moves the manual clock on by `payload.ms` while it runs. */
class TakesTimeJob implements CronJob {
  readonly type = "takes_time";
  readonly description = "Advances the manual clock.";
  constructor(private readonly during?: () => Promise<void>) {}
  async run({ clock, payload }: JobContext) {
    (clock as ManualClock).advance((payload as { ms: number }).ms);
    await this.during?.();
  }
}

for (const backend of backends) {
  describeOn(backend, `leases of jobs waiting in a claimed batch (${backend.name})`, () => {
    test("a job that waited in its batch renews its lease before it starts", async () => {
      const record = new RecordJob();
      const { store, runner } = await runnerOn(backend, { concurrency: 1, leaseMarginMs: 10_000 }, testRegistry(record, new TakesTimeJob()));
      await claimFullBatches(store, runner, T0);
      await addJob(store, T0, { name: "first", jobType: "takes_time", payload: JSON.stringify({ ms: 20_000 }), runAt: new Date(T0 - 2000), timeoutSeconds: 60 });
      const second = await addJob(store, T0, { name: "second", jobType: "record", runAt: new Date(T0 - 1000), timeoutSeconds: 60 });
      let leaseAtStart: number | undefined;
      record.run = async ({ job }: JobContext) => {
        record.seen.push(job.id);
        leaseAtStart = (await store.getJob(job.id))?.lockedUntil?.getTime();
      };
      const tick = await runner.runDueJobs();
      expect(tick.results.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
      expect(record.seen).toEqual([second.id]);
      // Claimed at T0 with a lease to T0 + 70 s; it started at T0 + 20 s with a lease renewed from then.
      expect(leaseAtStart).toBe(T0 + 20_000 + 60_000 + 10_000);
    });

    test("a job whose lease passed while it waited in its batch, and that another tick took meanwhile, is not started a second time", async () => {
      const record = new RecordJob();
      let other: Promise<unknown> | undefined;
      const registry = testRegistry(record, new TakesTimeJob(async () => {
        // While the first job runs past the second one's lease, another runner takes the second one.
        other = otherRunner.runDueJobs();
        await other;
      }));
      const { store, runner, clock } = await runnerOn(backend, { concurrency: 1, leaseMarginMs: 1_000 }, registry);
      const { runner: otherRunner } = testRuntime(store, { clock, registry, runner: { runnerName: "other" } });
      await claimFullBatches(store, runner, T0);
      await addJob(store, T0, { name: "first", jobType: "takes_time", payload: JSON.stringify({ ms: 5_000 }), runAt: new Date(T0 - 2000), timeoutSeconds: 60 });
      const second = await addJob(store, T0, { name: "second", jobType: "record", runAt: new Date(T0 - 1000), timeoutSeconds: 2 });
      const tick = await runner.runDueJobs();
      expect(record.seen).toEqual([second.id]); // run once, by the other runner
      expect(tick.results.find((r) => r.id === second.id)?.status).toBe("lease_lost");
      const runs = (await store.listRuns({ limit: 10, jobId: second.id })).items;
      expect(runs.map((r) => r.runner)).toEqual(["other"]);
      expect(clock.now()).toBe(T0 + 5_000);
    });
  });
}
