import { expect, test } from "bun:test";
import path from "node:path";
import { backends, describeOn, runnerOn } from "../support/backends.ts";
import { T0, tempDir } from "../support/db.ts";
import { execRaw } from "../support/fault-db.ts";
import { readJournal } from "../support/fault-jobs.ts";
import { postTick, startServer, waitForTicks, waitUntil } from "../support/server-process.ts";
import { addJob, GateJob, testRegistry } from "../support/jobs.ts";

const GRACE_MS = 2_500;
const ABORT_GRACE_MS = 200;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

for (const backend of backends) {
  describeOn(backend, `SIGTERM of a server in the middle of a tick (${backend.name})`, () => {
    test("running jobs finish within the grace period, the others' leases are released at once, exit code 0", async () => {
      const { store, databaseUrl } = await backend.open();
      const journal = path.join(tempDir(), "journal.jsonl");
      const now = Date.now();
      // Written inactive, then switched on in one statement once the server listens, so that one
      // tick (the POST below) claims them all together.
      const job = (name: string, payload: object, dueAgoMs: number) =>
        addJob(store, now, { name, jobType: "journal", payload: JSON.stringify(payload), runAt: new Date(now - dueAgoMs), isActive: false, timeoutSeconds: 60 });
      const quick = await job("quick", { ms: 1_500 }, 3_000);
      const long = await job("long", { ms: 20_000 }, 3_000);
      const stubborn = await job("stubborn", { ms: 20_000, ignoreAbort: true }, 3_000);
      const queued = await Promise.all(Array.from({ length: 7 }, (_, i) => job(`queued-${i}`, { ms: 1_000 }, 1_000)));

      const server = await startServer({
        databaseUrl, entry: "test-jobs",
        testJobs: { graceMs: GRACE_MS, journal, runner: { concurrency: 3, abortGraceMs: ABORT_GRACE_MS } },
      });
      await waitForTicks(server.url); // its start-up tick is over: the timer sleeps, nothing being due
      await execRaw(store, { sqlite: "UPDATE cron_jobs SET is_active = 1", postgres: "UPDATE cron_jobs SET is_active = true" });
      const tick = postTick(server.url);
      expect(await waitUntil(() => readJournal(journal).filter((e) => e.event === "start").length === 3, 5_000)).toBe(true);

      server.child.kill("SIGTERM");
      // The queued jobs' leases go back at once: while the running ones are still running (no end line yet).
      const released = async () => {
        for (const q of queued) {
          const row = await store.getJob(q.id);
          if (row?.lockedBy !== null || row.attempts !== 0) return false;
        }
        return true;
      };
      expect(await waitUntil(released, 10_000, 20)).toBe(true);
      expect(readJournal(journal).some((e) => e.event === "end")).toBe(false);

      expect(await server.exited).toBe(0);
      // It did not wait for the jobs that outlived the grace period: only the quick one reached its end
      // (the stubborn one, deaf to its abort, would have written its end line 20 s after it started).
      expect(readJournal(journal).filter((e) => e.event === "end").map((e) => e.jobId)).toEqual([quick.id]);

      // The running job that could finish within the grace period did, and was recorded.
      const runs = (await store.listRuns({ limit: 100 })).items;
      expect(runs.map((r) => [r.jobId, r.status])).toEqual([[quick.id, "succeeded"]]);
      expect(await store.getJob(quick.id)).toBeUndefined();
      // The ones that outlived it were aborted and given back, like the queued ones: due again now.
      for (const j of [long, stubborn, ...queued]) {
        expect(await store.getJob(j.id)).toMatchObject({ lockedBy: null, lockedUntil: null, attempts: 0, isActive: true, lastError: null });
      }
      const started = new Set(readJournal(journal).filter((e) => e.event === "start").map((e) => e.jobId));
      expect(started).toEqual(new Set([quick.id, long.id, stubborn.id]));
      // The HTTP tick in flight was answered with what it did. The server's own timer hears of the
      // UPDATE too (a notice on PostgreSQL, the file's data version on SQLite) and may claim the
      // jobs first: then the timer's tick, in the log, ran them and the POST claimed nothing.
      const answer = await tick;
      expect(answer.status).toBe(200);
      const ticks = [answer.body, ...server.logs().filter((l) => l.msg === "tick")] as { claimed: number; succeeded: number }[];
      expect({ claimed: sum(ticks.map((t) => t.claimed)), succeeded: sum(ticks.map((t) => t.succeeded)) }).toEqual({ claimed: 1, succeeded: 1 });
      expect(server.logs().some((l) => l.msg === "stopped")).toBe(true);
    }, 40_000);
  });
}

for (const backend of backends) {
  describeOn(backend, `runner shutdown (${backend.name})`, () => {
    test("jobs claimed but still waiting in the batch are given back at once, before the running ones end", async () => {
      const gate = new GateJob();
      const { store, runner } = await runnerOn(backend, { concurrency: 1, abortGraceMs: 50 }, testRegistry(gate));
      const running = await addJob(store, T0, { name: "running", jobType: "gate", runAt: new Date(T0 - 2000) });
      const waiting = await Promise.all([1, 2, 3].map((i) =>
        addJob(store, T0, { name: `waiting-${i}`, jobType: "gate", runAt: new Date(T0 - 1000) })));
      const tick = runner.runDueJobs();
      await gate.started("running");
      const stopped = runner.shutdown(5_000);
      // While the first job still runs (its gate is shut), the others are already free for another instance.
      expect(await waitUntil(async () => {
        const rows = await Promise.all(waiting.map((w) => store.getJob(w.id)));
        return rows.every((r) => r?.lockedBy === null && r.attempts === 0);
      }, 10_000, 5)).toBe(true);
      expect((await store.getJob(running.id))!.lockedBy).toEqual(expect.any(String));
      gate.open();
      await stopped;
      expect((await tick).results.map((r) => [r.name, r.status])).toEqual([["running", "succeeded"]]);
      expect((await tick).claimed).toBe(1);
    });
  });
}
