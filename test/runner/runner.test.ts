import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { CLAIM_AHEAD_MS } from "../../src/runner/claim-size.ts";
import { backoffMs, LEASE_EXPIRED_ERROR } from "../../src/lifecycle/lifecycle.ts";
import { backends, describeOn, runnerOn } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { waitUntil } from "../support/server-process.ts";
import { addJob, GateJob, RecordJob, testRegistry } from "../support/jobs.ts";
import { ManualClock } from "../../src/clock.ts";
import { testRuntime, TEST_ACTOR } from "../support/runtime.ts";
import type { CronJobRecord, Store } from "../../src/store/store.ts";

const MIN = 60_000;
const past = new Date(T0 - 1000);

for (const backend of backends) {
  describeOn(backend, `runner on ${backend.name}`, () => {
    const setup = (options = {}, ...jobs: CronJob<any>[]) =>
      runnerOn(backend, { abortGraceMs: 50, ...options }, testRegistry(...jobs));

    test("a slow job holds up only its own worker: the jobs claimed after it run while it runs", async () => {
      const gate = new GateJob();
      const record = new RecordJob();
      const { store, runner } = await setup({ concurrency: 2, batchSize: 2 }, gate, record);
      await addJob(store, T0, { name: "slow", jobType: "gate", runAt: new Date(T0 - 5000) });
      const quick = [];
      for (let i = 0; i < 5; i++) quick.push(await addJob(store, T0, { name: `quick-${i}`, jobType: "record", runAt: new Date(T0 - 4000 + i) }));
      const tick = runner.runDueJobs();
      await gate.started("slow");
      // The first batch holds the slow job and one quick one; the other quick ones are claimed in
      // later batches by the free worker, without waiting for the slow one.
      expect(await waitUntil(() => record.seen.length === quick.length, 5_000, 5)).toBe(true);
      expect(record.seen).toEqual(quick.map((j) => j.id));
      gate.open();
      expect(await tick).toMatchObject({ claimed: 6, succeeded: 6 });
      expect((await store.listRuns({ limit: 10 })).items).toHaveLength(6);
    });

    test("a job may take its context apart or copy it: log, heartbeat and signal work unbound", async () => {
      let seen: { aborted: boolean; kept: boolean; lease: number | undefined; users: boolean } | undefined;
      const apart: CronJob = {
        type: "apart",
        description: "Uses its context taken apart.",
        async run(ctx) {
          const { job, users, clock, log, heartbeat, signal } = ctx;
          log("first line");
          const copy = { ...ctx };
          copy.log("from a copy");
          const kept = await heartbeat(120_000);
          const lease = (await s.store.getJob(job.id))?.lockedUntil?.getTime();
          log(`second line at ${clock.now() - T0}`);
          seen = { aborted: signal.aborted, kept, lease, users: typeof users.getUser === "function" };
        },
      };
      const s = await setup({ leaseMarginMs: 5_000 }, apart);
      const job = await addJob(s.store, T0, { name: "apart", jobType: "apart", runAt: past, intervalMinutes: 5 });
      expect(await s.runner.runDueJobs()).toMatchObject({ claimed: 1, succeeded: 1 });
      expect(seen).toEqual({ aborted: false, kept: true, lease: T0 + 120_000 + 5_000, users: true });
      const [run] = (await s.store.listRuns({ limit: 1, jobId: job.id })).items;
      expect(run).toMatchObject({ status: "succeeded", output: "first line\nfrom a copy\nsecond line at 0" });
    });

    test("two ticks at once on one runner run `concurrency` jobs between them, not each", async () => {
      let running = 0;
      let most = 0;
      const gate = Promise.withResolvers<void>();
      const counted: CronJob = {
        type: "counted",
        description: "Counts the runs going at once.",
        async run() {
          running++;
          most = Math.max(most, running);
          await gate.promise;
          running--;
        },
      };
      const { store, runner } = await setup({ concurrency: 2, batchSize: 3 }, counted);
      for (let i = 0; i < 6; i++) await addJob(store, T0, { name: `counted-${i}`, jobType: "counted", runAt: new Date(T0 - 1000 + i) });
      // Each tick claims what its slots could start (2); together they could start 4.
      const ticks = [runner.runDueJobs(), runner.runDueJobs()];
      expect(await waitUntil(() => running >= 2, 5_000, 5)).toBe(true);
      await Bun.sleep(50);
      expect(running).toBe(2);
      gate.resolve();
      const [a, b] = await Promise.all(ticks);
      expect(a!.succeeded + b!.succeeded).toBe(6);
      expect(most).toBe(2);
    });

    test("slow jobs are claimed a few at a time, what the slots start within CLAIM_AHEAD_MS; instant ones a full batch", async () => {
      // Claimed and not yet started, as each job starts: what a process that died then would have counted an attempt against.
      const waitingAtStart: number[] = [];
      const started = new Set<number>();
      // Takes `ms` of the runner's (manual) clock.
      const timed: CronJob<{ ms: number }> = {
        type: "timed",
        description: "Takes ms of the clock.",
        payloadSchema: z.object({ ms: z.int() }),
        async run({ job, payload, clock }) {
          started.add(job.id);
          const jobs = (await s.store.listJobs({ limit: 1_000 }, clock.now())).items;
          waitingAtStart.push(jobs.filter((j) => j.lockedBy !== null && !started.has(j.id)).length);
          (clock as ManualClock).advance(payload.ms);
        },
      };
      const s = await setup({ concurrency: 2, batchSize: 500 }, timed);
      const add = async (ms: number) => {
        for (let i = 0; i < 30; i++) await addJob(s.store, T0, { name: `timed-${ms}-${i}`, jobType: "timed", runAt: past, payload: JSON.stringify({ ms }) });
      };
      // Runs of a fifth of the claim-ahead time on 2 slots: first the 2 the slots can start, then at most 10 at a time.
      await add(CLAIM_AHEAD_MS / 5);
      expect(await s.runner.runDueJobs()).toMatchObject({ claimed: 30, succeeded: 30 });
      expect(waitingAtStart).toHaveLength(30);
      expect(Math.max(...waitingAtStart)).toBeLessThanOrEqual(10);
      // Instant runs: once the runner has seen some, one claim takes every due job.
      waitingAtStart.length = 0;
      for (let i = 0; i < 20; i++) {
        await add(0);
        await s.runner.runDueJobs();
      }
      await add(0);
      expect(await s.runner.runDueJobs()).toMatchObject({ claimed: 30, succeeded: 30 });
      expect(Math.max(...waitingAtStart.slice(-30))).toBeGreaterThanOrEqual(30 - 2); // all claimed at once, at most two started
    });

    test("a one-time job is deleted after success and leaves one history row", async () => {
      const { store, runner } = await setup();
      const job = await addJob(store, T0, { name: "once", runAt: past });
      const tick = await runner.runDueJobs();
      expect(tick).toMatchObject({ claimed: 1, succeeded: 1, failed: 0, timedOut: 0, truncated: false });
      expect(tick.results).toEqual([{ id: job.id, name: "once", jobType: "noop", userId: null, status: "succeeded", durationMs: 0 }]);
      expect(await store.getJob(job.id)).toBeUndefined();
      const runs = (await store.listRuns({ limit: 10 })).items;
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ jobId: job.id, status: "succeeded", attempt: 1, runId: tick.runId, runner: "test/1", error: null });
      expect(runs[0]!.scheduledFor?.getTime()).toBe(past.getTime());
    });

    test("a job not yet due does not run", async () => {
      const { store, runner } = await setup();
      const job = await addJob(store, T0, { name: "later", runAt: new Date(T0 + 1000) });
      expect((await runner.runDueJobs()).claimed).toBe(0);
      expect(await store.getJob(job.id)).toBeDefined();
    });

    describe("a tick for a slot just ahead (the server's timer, CLAIM_EARLY_MS before it)", () => {
      const lockedBy = async (store: Store, id: number) => (await store.getJob(id))?.lockedBy;

      test("claims what is due by the slot, not what is later or leased, and starts each job at its own time, never before", async () => {
        const record = new RecordJob();
        const { store, runner, clock } = await setup({}, record);
        const held = await addJob(store, T0, { name: "held", jobType: "record", runAt: past });
        await store.claimDue({ runId: "elsewhere", now: T0, limit: 10, leaseMarginMs: 1_000 });
        const a = await addJob(store, T0, { name: "a", jobType: "record", runAt: new Date(T0 + 5) });
        const b = await addJob(store, T0, { name: "b", jobType: "record", runAt: new Date(T0 + 10) });
        const later = await addJob(store, T0, { name: "later", jobType: "record", runAt: new Date(T0 + 30) });
        const tick = runner.runDueJobs({ slot: T0 + 10 });
        expect(await waitUntil(async () => (await lockedBy(store, b.id)) != null, 5_000, 5)).toBe(true);
        expect(await lockedBy(store, a.id)).toBe((await lockedBy(store, b.id))!);
        expect(await lockedBy(store, later.id)).toBeNull();
        expect(await lockedBy(store, held.id)).toBe("elsewhere");
        await Bun.sleep(50);
        expect(record.seen).toEqual([]); // this clock stays at T0: claimed, not started
        clock.set(T0 + 5);
        expect(await waitUntil(() => record.seen.length > 0, 5_000, 5)).toBe(true);
        await Bun.sleep(50);
        expect(record.seen).toEqual([a.id]);
        clock.set(T0 + 10);
        expect(await tick).toMatchObject({ claimed: 2, succeeded: 2 });
        const runs = (await store.listRuns({ limit: 10 })).items;
        expect(runs.map((r) => [r.name, r.startedAt.getTime() - T0]).sort()).toEqual([["a", 5], ["b", 10]]);
      });

      test("a lease that ends between now and the slot is live now: the claim for the slot leaves it until it ends", async () => {
        const { store } = await setup();
        const job = await addJob(store, T0, { name: "held", runAt: new Date(T0 - 1_000), timeoutSeconds: 1 });
        await store.claimDue({ runId: "elsewhere", now: T0 - 1_000, limit: 10, leaseMarginMs: 5 }); // held until T0 + 5
        expect(await store.claimDue({ runId: "early", now: T0, dueBy: T0 + 10, limit: 10, leaseMarginMs: 1_000 })).toEqual([]);
        const taken = await store.claimDue({ runId: "at-its-end", now: T0 + 5, dueBy: T0 + 10, limit: 10, leaseMarginMs: 1_000 });
        expect(taken.map((j) => [j.id, j.lockedBy])).toEqual([[job.id, "at-its-end"]]);
      });

      test("a new runner claims batch after batch before the slot, bound by time alone: its first burst starts at the slot", async () => {
        const record = new RecordJob();
        const { store, runner, clock } = await setup({ concurrency: 4, batchSize: 3 }, record);
        for (let i = 0; i < 9; i++) await addJob(store, T0, { name: `j-${i}`, jobType: "record", runAt: new Date(T0 + 10) });
        const leased = async () => (await store.listJobs({ limit: 10 }, T0)).items.filter((j) => j.lockedBy !== null).length;
        const tick = runner.runDueJobs({ slot: T0 + 10 });
        // Three claims of 3 (batchSize), past 4 (concurrency): this clock stands still, so every claim ends well before the slot.
        expect(await waitUntil(async () => (await leased()) === 9, 5_000, 5)).toBe(true);
        expect(record.seen).toEqual([]);
        clock.set(T0 + 10);
        expect(await tick).toMatchObject({ claimed: 9, succeeded: 9 });
      });

      test("once runs took time, claims before the slot stop at what the runner can start within CLAIM_AHEAD_MS", async () => {
        // Takes `ms` of the runner's (manual) clock.
        const timed: CronJob<{ ms: number }> = {
          type: "timed",
          description: "Takes ms of the clock.",
          payloadSchema: z.object({ ms: z.int() }),
          async run({ payload, clock }) {
            (clock as ManualClock).advance(payload.ms);
          },
        };
        const { store, runner, clock } = await setup({ concurrency: 4, batchSize: 3 }, timed);
        await addJob(store, T0, { name: "warm-up", jobType: "timed", runAt: past, payload: JSON.stringify({ ms: CLAIM_AHEAD_MS / 2 }) });
        expect(await runner.runDueJobs()).toMatchObject({ succeeded: 1 }); // 4 slots start 8 such runs within CLAIM_AHEAD_MS
        const slot = clock.now() + 10;
        for (let i = 0; i < 12; i++) await addJob(store, clock.now(), { name: `j-${i}`, jobType: "timed", runAt: new Date(slot), payload: JSON.stringify({ ms: 0 }) });
        const leased = async () => (await store.listJobs({ limit: 20 }, clock.now())).items.filter((j) => j.lockedBy !== null).length;
        const tick = runner.runDueJobs({ slot });
        // Claims of 3 until they hold 8 or more: 9, not 12.
        expect(await waitUntil(async () => (await leased()) === 9, 5_000, 5)).toBe(true);
        await Bun.sleep(50);
        expect(await leased()).toBe(9);
        clock.set(slot);
        expect(await tick).toMatchObject({ claimed: 12, succeeded: 12 });
      });

      test("jobs claimed before the slot that no worker started CLAIM_AHEAD_MS after it go back, and run once a worker is free", async () => {
        const gate = new GateJob();
        const { store, runner, clock } = await setup({ concurrency: 1 }, gate);
        const jobs: CronJobRecord[] = [];
        for (let i = 0; i < 3; i++) jobs.push(await addJob(store, T0, { name: `slow-${i}`, jobType: "gate", runAt: new Date(T0 + 8 + i) }));
        const tick = runner.runDueJobs({ slot: T0 + 10 });
        expect(await waitUntil(async () => (await lockedBy(store, jobs[2]!.id)) != null, 5_000, 5)).toBe(true);
        clock.set(T0 + 10);
        await gate.started("slow-0");
        // Real time passes, this clock stays short of the slot + CLAIM_AHEAD_MS: still held.
        await Bun.sleep(CLAIM_AHEAD_MS + 50);
        expect(await lockedBy(store, jobs[1]!.id)).not.toBeNull();
        clock.set(T0 + 10 + CLAIM_AHEAD_MS);
        const given = async () => Promise.all(jobs.slice(1).map((j) => store.getJob(j.id)));
        expect(await waitUntil(async () => (await given()).every((j) => j?.lockedBy === null), 5_000, 5)).toBe(true);
        for (const job of await given()) expect(job).toMatchObject({ lockedUntil: null, attempts: 0, isActive: true });
        gate.open();
        expect(await tick).toMatchObject({ claimed: 3, succeeded: 3 });
        const runs = (await store.listRuns({ limit: 10 })).items;
        expect(runs.map((r) => [r.name, r.attempt]).sort()).toEqual([["slow-0", 1], ["slow-1", 1], ["slow-2", 1]]);
      });

      test("a job whose time moved away while it waited (the clock was set back) is given back, not started", async () => {
        const record = new RecordJob();
        const { store, runner, clock } = await setup({}, record);
        const job = await addJob(store, T0, { name: "soon", jobType: "record", runAt: new Date(T0 + 10) });
        const tick = runner.runDueJobs({ slot: T0 + 10 });
        expect(await waitUntil(async () => (await lockedBy(store, job.id)) != null, 5_000, 5)).toBe(true);
        clock.set(T0 - 600_000);
        expect(await tick).toMatchObject({ claimed: 0, succeeded: 0 });
        expect(await store.getJob(job.id)).toMatchObject({ lockedBy: null, lockedUntil: null, attempts: 0, isActive: true });
        expect(record.seen).toEqual([]);
      });

      test("shutdown gives back at once the jobs waiting for their time", async () => {
        const record = new RecordJob();
        const { store, runner } = await setup({}, record);
        const job = await addJob(store, T0, { name: "soon", jobType: "record", runAt: new Date(T0 + 10) });
        const tick = runner.runDueJobs({ slot: T0 + 10 });
        expect(await waitUntil(async () => (await lockedBy(store, job.id)) != null, 5_000, 5)).toBe(true);
        await runner.shutdown(60_000); // this clock never reaches the job's time: only the shutdown ends the wait
        expect(await tick).toMatchObject({ claimed: 0 });
        expect(await store.getJob(job.id)).toMatchObject({ lockedBy: null, attempts: 0 });
        expect(record.seen).toEqual([]);
      });
    });

    test("a recurring job keeps its row: last_run_at = start, next_run_at = next slot, attempts reset", async () => {
      const { store, runner, clock } = await setup();
      const job = await addJob(store, T0, { name: "every5", intervalMinutes: 5, nextRunAt: new Date(T0) });
      clock.advance(2_000);
      await runner.runDueJobs();
      const row = (await store.getJob(job.id))!;
      expect(row.lastRunAt?.getTime()).toBe(T0 + 2_000);
      expect(row.nextRunAt?.getTime()).toBe(T0 + 5 * MIN);
      expect(row).toMatchObject({ attempts: 0, lastError: null, lockedBy: null, lockedUntil: null, isActive: true });
    });

    test("a recurring job that fails keeps its schedule and counts consecutive failures", async () => {
      const { store, runner, clock } = await setup();
      const job = await addJob(store, T0, { name: "flaky", jobType: "fail", intervalMinutes: 5, nextRunAt: new Date(T0) });
      await runner.runDueJobs();
      let row = (await store.getJob(job.id))!;
      expect(row).toMatchObject({ attempts: 1, lastError: "boom", isActive: true, lockedBy: null });
      expect(row.nextRunAt?.getTime()).toBe(T0 + 5 * MIN);
      expect(row.lastRunAt?.getTime()).toBe(T0);
      for (let i = 2; i <= 7; i++) {
        clock.set(row.nextRunAt!);
        await runner.runDueJobs();
        row = (await store.getJob(job.id))!;
        expect(row.attempts).toBe(i);
      }
      expect(row.isActive).toBe(true); // no auto-deactivation of recurring jobs
    });

    test("three missed interval slots give one run, and the next slot stays on the grid", async () => {
      const { store, runner, clock } = await setup();
      const job = await addJob(store, T0, { name: "missed", intervalMinutes: 10, nextRunAt: new Date(T0) });
      clock.set(T0 + 35 * MIN); // slots at +0, +10, +20, +30 all passed
      const tick = await runner.runDueJobs();
      expect(tick.claimed).toBe(1);
      expect((await runner.runDueJobs()).claimed).toBe(0);
      expect((await store.getJob(job.id))!.nextRunAt?.getTime()).toBe(T0 + 40 * MIN);
      expect((await store.listRuns({ limit: 10, jobId: job.id })).items).toHaveLength(1);
    });

    test("a failed one-time job retries with backoff, then dies after max_attempts", async () => {
      const { store, runner, clock } = await setup();
      const job = await addJob(store, T0, { name: "doomed", jobType: "fail", runAt: past, maxAttempts: 3 });
      for (let attempt = 1; attempt <= 3; attempt++) {
        const tick = await runner.runDueJobs();
        expect(tick.failed).toBe(1);
        const row = (await store.getJob(job.id))!;
        expect(row.attempts).toBe(attempt);
        expect(row.lastError).toBe("boom");
        if (attempt < 3) {
          expect(row.isActive).toBe(true);
          expect(row.nextRunAt?.getTime()).toBe(clock.now() + backoffMs(attempt));
          expect((await runner.runDueJobs()).claimed).toBe(0); // not before the backoff
          clock.set(row.nextRunAt!);
        } else {
          expect(row.isActive).toBe(false); // dead, kept for inspection
        }
      }
      clock.advance(24 * 60 * MIN);
      expect((await runner.runDueJobs()).claimed).toBe(0);
      const runs = (await store.listRuns({ limit: 10, jobId: job.id })).items;
      expect(runs.map((r) => [r.status, r.attempt])).toEqual([["failed", 3], ["failed", 2], ["failed", 1]]);
    });

    test("backoff doubles from 30 s and stops at one hour", () => {
      expect([1, 2, 3, 4, 8, 20].map(backoffMs)).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
    });

    test("an unknown job_type is deactivated with a clear error while the other jobs of the tick run", async () => {
      const { store, runner } = await setup();
      const bad = await addJob(store, T0, { name: "mystery", jobType: "no_such_type", runAt: past });
      const good = await addJob(store, T0, { name: "fine", runAt: past });
      const tick = await runner.runDueJobs();
      expect(tick).toMatchObject({ claimed: 2, succeeded: 1, failed: 1 });
      const row = (await store.getJob(bad.id))!;
      expect(row.isActive).toBe(false);
      expect(row.lastError).toContain('unknown job_type "no_such_type"');
      expect(await store.getJob(good.id)).toBeUndefined();
      expect((await runner.runDueJobs()).claimed).toBe(0);
    });

    test("a payload that is not valid JSON or fails the type's schema deactivates only that job", async () => {
      const { store, runner } = await setup();
      const notJson = await addJob(store, T0, { name: "p1", jobType: "sleep", payload: "{oops", runAt: past });
      const wrong = await addJob(store, T0, { name: "p2", jobType: "sleep", payload: JSON.stringify({ ms: "soon" }), runAt: past });
      const ok = await addJob(store, T0, { name: "p3", jobType: "sleep", payload: JSON.stringify({ ms: 1 }), runAt: past });
      const tick = await runner.runDueJobs();
      expect(tick).toMatchObject({ claimed: 3, succeeded: 1, failed: 2 });
      expect((await store.getJob(notJson.id))!.lastError).toBe("invalid payload: not valid JSON");
      expect((await store.getJob(wrong.id))!.lastError).toContain("ms");
      expect((await store.getJob(wrong.id))!.isActive).toBe(false);
      expect(await store.getJob(ok.id)).toBeUndefined();
    });

    test("a timeout aborts the job and records timed_out", async () => {
      const gate = new GateJob(); // never opened: only the abort can end this run
      const { store, runner } = await setup({}, gate);
      const job = await addJob(store, T0, { name: "slow", jobType: "gate", timeoutSeconds: 1, runAt: past });
      const tick = await runner.runDueJobs();
      expect(tick).toMatchObject({ timedOut: 1, succeeded: 0 });
      expect(tick.results[0]).toMatchObject({ status: "timed_out", error: "timed out after 1 s" });
      const row = (await store.getJob(job.id))!;
      expect(row).toMatchObject({ attempts: 1, isActive: true, lastError: "timed out after 1 s", lockedBy: null });
      expect((await store.listRuns({ limit: 5, jobId: job.id })).items[0]!.status).toBe("timed_out");
    });

    test("a job that ignores its abort is recorded timed_out and keeps its lease's end (not its lease) until it expires", async () => {
      const { store, runner, clock } = await setup({ leaseMarginMs: 5_000 });
      const job = await addJob(store, T0, { name: "stuck", jobType: "hang", timeoutSeconds: 1, intervalMinutes: 1, nextRunAt: new Date(T0) });
      const tick = await runner.runDueJobs();
      expect(tick.timedOut).toBe(1);
      const row = (await store.getJob(job.id))!;
      // The run is recorded, so it no longer holds the job (not "running", not a crash at the next
      // claim), but nothing claims it before the lease's end.
      expect(row.lockedBy).toBeNull();
      expect(row.crashes).toBe(0);
      expect(row.lockedUntil?.getTime()).toBe(T0 + 1_000 + 5_000);
      clock.set(T0 + 5_999); // lease (timeout 1 s + margin 5 s) still live

      expect((await runner.runDueJobs()).claimed).toBe(0);
      clock.set(T0 + 60_000); // next slot, lease long over
      expect((await runner.runDueJobs()).claimed).toBe(1);
    });

    test("a finish after the lease was lost changes no row but keeps its history", async () => {
      const { store, runner, clock } = await setup();
      const job = await addJob(store, T0, { name: "contested", intervalMinutes: 5, nextRunAt: new Date(T0) });
      const [claimed] = await store.claimDue({ runId: "old-run", now: T0, limit: 10, leaseMarginMs: 1 });
      expect(claimed!.id).toBe(job.id);
      clock.set(T0 + 61_000 + 1); // the old lease (60 s + 1 ms) has expired: a new tick takes the job
      const [again] = await store.claimDue({ runId: "new-run", now: clock.now(), limit: 10, leaseMarginMs: 1 });
      expect(again!.lockedBy).toBe("new-run");
      const before = (await store.getJob(job.id))!;
      const outcome = await store.finish([{
        jobId: job.id, runId: "old-run",
        change: { kind: "update", isActive: false, ended: null, attempts: 0, lastError: "late", lastRunAt: new Date(T0), nextRunAt: null, keepLease: false },
        run: { jobId: job.id, name: job.name, jobType: "noop", userId: null, scheduledFor: new Date(T0), startedAt: new Date(T0), finishedAt: new Date(clock.now()), status: "succeeded", error: null, output: null, attempt: 1, runId: "old-run", runner: "test/0" },
      }]);
      expect(outcome).toEqual(["lease_lost"]);
      expect(await store.getJob(job.id)).toEqual(before);
      expect((await store.listRuns({ limit: 5, jobId: job.id })).items.map((r) => r.runId)).toEqual(["old-run"]);
    });

    test("an expired lease makes the job due again once (crash recovery), marked in last_error", async () => {
      const gate = new GateJob();
      const { store, runner, clock } = await setup({ leaseMarginMs: 1_000 }, gate);
      const job = await addJob(store, T0, { name: "orphan", jobType: "gate", runAt: past, timeoutSeconds: 10 });
      await store.claimDue({ runId: "crashed", now: T0, limit: 10, leaseMarginMs: 1_000 }); // the process "died" here
      expect((await store.getJob(job.id))!.lastError).toBeNull();
      clock.set(T0 + 10_999);
      expect((await runner.runDueJobs()).claimed).toBe(0); // lease still live: no second run
      clock.set(T0 + 11_000);
      const recovery = runner.runDueJobs();
      // While the second run runs, the row says why it is running again.
      await gate.started("orphan");
      expect((await store.getJob(job.id))!.lastError).toBe(LEASE_EXPIRED_ERROR);
      gate.open();
      const tick = await recovery;
      expect(tick).toMatchObject({ claimed: 1, succeeded: 1 });
      expect(await store.getJob(job.id)).toBeUndefined();
      expect((await store.listRuns({ limit: 5, jobId: job.id })).items[0]!.attempt).toBe(2);
    });

    test("a job whose process dies every time stops after max_attempts", async () => {
      const { store, runner, clock } = await setup({ leaseMarginMs: 1_000 });
      const job = await addJob(store, T0, { name: "killer", intervalMinutes: 1, nextRunAt: new Date(T0), maxAttempts: 2, timeoutSeconds: 1 });
      for (let i = 0; i < 2; i++) {
        await store.claimDue({ runId: `crash-${i}`, now: clock.now(), limit: 10, leaseMarginMs: 1_000 });
        clock.advance(2_001);
      }
      const tick = await runner.runDueJobs();
      expect(tick.failed).toBe(1);
      const row = (await store.getJob(job.id))!;
      expect(row.isActive).toBe(false);
      expect(row.lastError).toContain(`gave up after 2 attempts: ${LEASE_EXPIRED_ERROR}`);
    });

    test("two ticks at once in one process never run a job twice (1,000 due jobs)", async () => {
      const record = new RecordJob();
      const { store } = await backend.open();
      const clock = new ManualClock(T0);
      const registry = testRegistry(record);
      for (let i = 0; i < 1000; i++) await addJob(store, T0, { name: `j${i}`, jobType: "record", runAt: past });
      const runners = [1, 2].map((n) => testRuntime(store, { clock, registry, runner: { runnerName: `r${n}`, batchSize: 50 } }).runner);
      const ticks = await Promise.all(runners.map((r) => r.runDueJobs()));
      expect(ticks[0]!.claimed + ticks[1]!.claimed).toBe(1000);
      // They contended: each tick claimed a share, and the history puts each run under its tick.
      expect(ticks.map((t) => t.claimed > 0)).toEqual([true, true]);
      const runs = (await store.listRuns({ limit: 2000 })).items;
      expect(ticks.map((t) => runs.filter((r) => r.runId === t.runId).length)).toEqual(ticks.map((t) => t.claimed));
      expect(record.seen).toHaveLength(1000);
      expect(new Set(record.seen).size).toBe(1000);
      expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(0);
    });

    test("limit bounds a tick, and a dry run lists due jobs without running them", async () => {
      const { store, runner } = await setup();
      for (let i = 0; i < 5; i++) await addJob(store, T0, { name: `d${i}`, runAt: new Date(T0 - 5000 + i) });
      const dry = await runner.runDueJobs({ dryRun: true });
      expect(dry.claimed).toBe(0);
      expect(dry.results.map((r) => [r.name, r.status])).toEqual([["d0", "due"], ["d1", "due"], ["d2", "due"], ["d3", "due"], ["d4", "due"]]);
      const tick = await runner.runDueJobs({ limit: 2 });
      expect(tick.results.map((r) => r.name)).toEqual(["d0", "d1"]); // oldest due first
      expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(3);
    });

    test("results list at most 1,000 runs and say when they were truncated", async () => {
      const { store, runner } = await setup();
      for (let i = 0; i < 1005; i++) await addJob(store, T0, { name: `t${i}`, runAt: past });
      const tick = await runner.runDueJobs();
      expect(tick.claimed).toBe(1005);
      expect(tick.succeeded).toBe(1005);
      expect(tick.results).toHaveLength(1000);
      expect(tick.truncated).toBe(true);
    });

    test("runNow runs a job through the claim and refuses one that is leased", async () => {
      const { store, runner } = await setup();
      const job = await addJob(store, T0, { name: "now", intervalMinutes: 60, nextRunAt: new Date(T0 + 3_600_000) });
      expect(await runner.runNow(job.id, TEST_ACTOR)).toMatchObject({ id: job.id, status: "succeeded" });
      await store.claimOne(job.id, { runId: "other", now: T0, leaseMarginMs: 1000 });
      await expect(runner.runNow(job.id, TEST_ACTOR)).rejects.toMatchObject({ code: "CONFLICT" });
      await expect(runner.runNow(999_999, TEST_ACTOR)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    test("history older than the retention period is pruned", async () => {
      const { store, runner, clock } = await setup({ retentionMs: 60 * MIN });
      await addJob(store, T0, { name: "old", runAt: past });
      await runner.runDueJobs();
      expect((await store.listRuns({ limit: 10 })).items).toHaveLength(1);
      clock.advance(2 * 60 * MIN);
      await runner.runDueJobs();
      expect((await store.listRuns({ limit: 10 })).items).toHaveLength(0);
    });

    test("shutdown lets a running job finish within the grace period, and releases unstarted ones at once", async () => {
      const gate = new GateJob();
      const { store, runner } = await setup({ concurrency: 1 }, gate);
      const first = await addJob(store, T0, { name: "a", jobType: "gate", runAt: new Date(T0 - 2000) });
      const second = await addJob(store, T0, { name: "b", jobType: "gate", runAt: new Date(T0 - 1000) });
      const tick = runner.runDueJobs();
      await gate.started("a");
      const stopped = runner.shutdown(5_000);
      // While "a" still runs, "b" (claimed, never started) is already given back.
      expect(await waitUntil(async () => (await store.getJob(second.id))?.lockedBy === null, 10_000, 5)).toBe(true);
      expect((await store.getJob(first.id))!.lockedBy).toEqual(expect.any(String)); // "a" still holds its lease
      gate.open();
      await stopped;
      const result = await tick;
      expect(result.results.map((r) => [r.name, r.status])).toEqual([["a", "succeeded"]]);
      expect(await store.getJob(first.id)).toBeUndefined();
      const released = (await store.getJob(second.id))!;
      expect(released).toMatchObject({ lockedBy: null, lockedUntil: null, attempts: 0, isActive: true });
      await expect(runner.runDueJobs()).rejects.toMatchObject({ code: "UNAVAILABLE" });
    });

    test("shutdown aborts a job that outlives the grace period and releases its lease", async () => {
      const gate = new GateJob(); // never opened
      const { store, runner } = await setup({}, gate);
      const job = await addJob(store, T0, { name: "long", jobType: "gate", runAt: past });
      const tick = runner.runDueJobs();
      await gate.started("long");
      await runner.shutdown(100);
      expect((await tick).results).toEqual([]);
      expect(await store.getJob(job.id)).toMatchObject({ lockedBy: null, attempts: 0 });
      expect((await store.listRuns({ limit: 5 })).items).toHaveLength(0);
    });
  });
}
