import { expect, test } from "bun:test";
import { LEASE_EXPIRED_ERROR } from "../../src/lifecycle/lifecycle.ts";
import { backends, describeOn, runnerOn } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import { addJob, testRegistry } from "../support/jobs.ts";

const MIN = 60_000;

for (const backend of backends) {
  describeOn(backend, `crash-loop detection of recurring jobs (${backend.name})`, () => {
    const setup = () => runnerOn(backend, { leaseMarginMs: 1_000, abortGraceMs: 20 }, testRegistry());
    /** A run that died with its process: claimed, never finished; its lease then passes. */
    const crash = async (s: Awaited<ReturnType<typeof setup>>, n: number) => {
      await s.store.claimDue({ runId: `crashed-${n}`, now: s.clock.now(), limit: 10, leaseMarginMs: 1_000 });
      s.clock.advance(2_001);
    };

    test("one crash after max_attempts failures in a row does not deactivate a recurring job", async () => {
      const s = await setup();
      const job = await addJob(s.store, T0, { name: "flaky", jobType: "fail", intervalMinutes: 1, nextRunAt: new Date(T0), timeoutSeconds: 1 });
      for (let i = 0; i < 6; i++) {
        await s.runner.runDueJobs();
        s.clock.set((await s.store.getJob(job.id))!.nextRunAt!);
      }
      expect((await s.store.getJob(job.id))!.attempts).toBe(6);
      await crash(s, 1); // the clock is now past the crashed run's lease: the job is due again
      const tick = await s.runner.runDueJobs();
      expect(tick.results.map((r) => [r.status, r.error])).toEqual([["failed", "boom"]]);
      expect(await s.store.getJob(job.id)).toMatchObject({ isActive: true, attempts: 8, lastError: "boom" });
    });

    test("a recurring job that times out ignoring its abort, again and again, keeps running at its slots", async () => {
      const s = await setup();
      const job = await addJob(s.store, T0, { name: "stuck", jobType: "hang", intervalMinutes: 1, nextRunAt: new Date(T0), timeoutSeconds: 1, maxAttempts: 2 });
      for (let i = 0; i < 4; i++) {
        const tick = await s.runner.runDueJobs();
        expect(tick.results.map((r) => r.status)).toEqual(["timed_out"]);
        s.clock.advance(MIN); // the next slot, the kept lease long over
      }
      expect(await s.store.getJob(job.id)).toMatchObject({ isActive: true, attempts: 4, lastError: "timed out after 1 s" });
    }, 20_000);

    test("a recurring job whose runs die with their process max_attempts times in a row, after earlier failures, is stopped", async () => {
      const s = await setup();
      const job = await addJob(s.store, T0, { name: "killer", jobType: "fail", intervalMinutes: 1, nextRunAt: new Date(T0), timeoutSeconds: 1, maxAttempts: 3 });
      for (let i = 0; i < 2; i++) {
        await s.runner.runDueJobs();
        s.clock.set((await s.store.getJob(job.id))!.nextRunAt!);
      }
      for (let i = 0; i < 3; i++) await crash(s, i);
      const tick = await s.runner.runDueJobs();
      expect(tick.results.map((r) => r.status)).toEqual(["failed"]);
      const row = (await s.store.getJob(job.id))!;
      expect(row.isActive).toBe(false);
      expect(row.lastError).toBe(`gave up after 3 attempts: ${LEASE_EXPIRED_ERROR}`);
    });
  });
}
