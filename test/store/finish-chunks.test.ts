/**
 * The finish of a burst of one-time runs (SPEC §5.3): a tick's deletes are written 64 rows per
 * fenced statement, and a chunk in which one row was re-leased by another run must still
 * delete every other row, leave that one exactly as the other run holds it, and record every
 * run's history row.
 */
import { expect, test } from "bun:test";
import type { Finish } from "../../src/store/store.ts";
import { backends, describeOn } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";

const JOBS = 64 * 2 + 5; // two full chunks and a short tail
const TIMEOUT_S = 1;
const MARGIN_MS = 100;

const deleteFinish = (job: { id: number; name: string }, runId: string, now: number): Finish => ({
  jobId: job.id, runId, change: { kind: "delete" },
  run: {
    jobId: job.id, name: job.name, jobType: "noop", userId: null, scheduledFor: new Date(T0 - 1000), startedAt: new Date(T0),
    finishedAt: new Date(now), status: "succeeded", error: null, output: null, attempt: 1, runId, runner: "test/a",
  },
});

for (const backend of backends) {
  describeOn(backend, `finishing a burst of one-time runs (${backend.name})`, () => {
    test(`${JOBS} finishes of one tick, one row of a full 64-row chunk and one of the tail re-leased by another run: those two are lease_lost and untouched, every other row is deleted, every run has its history row`, async () => {
      const { store } = await backend.open();
      const jobs = [];
      for (let i = 0; i < JOBS; i++) jobs.push(await addJob(store, T0, { name: `burst-${i}`, runAt: new Date(T0 - 1000), timeoutSeconds: TIMEOUT_S }));
      const claimed = await store.claimDue({ runId: "tick-a", now: T0, limit: JOBS, leaseMarginMs: MARGIN_MS });
      expect(claimed).toHaveLength(JOBS);

      // Tick A's leases run out before it finishes; another tick takes over two of its jobs.
      const later = T0 + TIMEOUT_S * 1000 + MARGIN_MS + 1;
      const inFullChunk = jobs[10]!;
      const inTail = jobs[JOBS - 2]!;
      for (const job of [inFullChunk, inTail]) {
        expect((await store.claimOne(job.id, { runId: "tick-b", now: later, leaseMarginMs: 60_000 }))?.lockedBy).toBe("tick-b");
      }
      const heldByB = await Promise.all([inFullChunk, inTail].map(async (job) => (await store.getJob(job.id))!));
      // And one row of the first chunk was removed meanwhile (its user deleted): a delete that finds nothing is done.
      const gone = jobs[20]!;
      await store.deleteJob(gone.id);

      const outcomes = await store.finish(jobs.map((job) => deleteFinish(job, "tick-a", later)));
      expect(outcomes).toHaveLength(JOBS);
      const lost = jobs.filter((_, i) => outcomes[i] === "lease_lost").map((j) => j.id);
      expect(lost).toEqual([inFullChunk.id, inTail.id]);
      expect(outcomes.filter((o) => o === "applied")).toHaveLength(JOBS - 2);

      // Only the re-leased rows remain, exactly as tick B holds them.
      const left = (await store.listJobs({ limit: 1000 }, later)).items;
      expect(left.map((j) => j.id).sort((a, b) => a - b)).toEqual([inFullChunk.id, inTail.id].sort((a, b) => a - b));
      for (const before of heldByB) expect(await store.getJob(before.id)).toEqual(before);

      // Every run of tick A is in the history, once, the lost ones included.
      const runs = (await store.listRuns({ limit: 1000 })).items;
      expect(runs).toHaveLength(JOBS);
      expect(new Set(runs.map((r) => r.jobId))).toEqual(new Set(jobs.map((j) => j.id)));
      expect(runs.every((r) => r.runId === "tick-a" && r.status === "succeeded")).toBe(true);
    });

    test("a full chunk where every lease held: all 64 rows go in one finish", async () => {
      const { store } = await backend.open();
      const jobs = [];
      for (let i = 0; i < 64; i++) jobs.push(await addJob(store, T0, { name: `chunk-${i}`, runAt: new Date(T0 - 1000) }));
      await store.claimDue({ runId: "tick-a", now: T0, limit: 64, leaseMarginMs: MARGIN_MS });
      expect(await store.finish(jobs.map((job) => deleteFinish(job, "tick-a", T0 + 10)))).toEqual(Array(64).fill("applied"));
      expect((await store.listJobs({ limit: 100 }, T0)).items).toEqual([]);
      expect((await store.listRuns({ limit: 100 })).items).toHaveLength(64);
    });
  });
}
