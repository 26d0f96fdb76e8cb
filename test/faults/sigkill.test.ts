import { expect, test } from "bun:test";
import path from "node:path";
import type { SqliteStore } from "../../src/store/sqlite-store.ts";
import { LEASE_EXPIRED_ERROR } from "../../src/lifecycle/lifecycle.ts";
import { backends, describeOn } from "../support/backends.ts";
import { tempDir } from "../support/db.ts";
import { overlappingRuns, readJournal, spansOf } from "../support/fault-jobs.ts";
import { postTick, startServer, waitUntil, type ServerProcess } from "../support/server-process.ts";
import { addJob } from "../support/jobs.ts";

const KILLS = 20;
const LEASE_MARGIN_MS = 1_500;
const TIMEOUT_S = 2;
const MAX_ATTEMPTS = 5;

/** A small seeded generator, so a failing run can be replayed with FAULT_SEED. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const backend of backends) {
  describeOn(backend, `SIGKILL of the server in the middle of a batch, 20 times (${backend.name})`, () => {
    test("no job is lost, and no job runs twice at once unless its lease had expired", async () => {
      const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
      const rand = random(seed);
      const { store, databaseUrl } = await backend.open();
      const journal = path.join(tempDir(), "journal.jsonl");
      const serve = () => startServer({
        databaseUrl, entry: "test-jobs",
        testJobs: { graceMs: 2_000, journal, runner: { leaseMarginMs: LEASE_MARGIN_MS, abortGraceMs: 100, concurrency: 8 } },
      });
      const oneTime = new Set<number>();
      const recurring: number[] = [];
      const t0 = Date.now();
      for (let i = 0; i < 4; i++) {
        recurring.push((await addJob(store, t0, {
          name: `every-2s-${i}`, jobType: "journal", cron: "*/2 * * * * *", timezone: "UTC", nextRunAt: new Date(t0),
          payload: JSON.stringify({ ms: 300 }), timeoutSeconds: TIMEOUT_S,
        })).id);
      }

      // Jobs keep coming due: a few every 100 ms, each due within the next 1.5 s.
      let feeding = true;
      let fed = 0;
      const feeder = (async () => {
        while (feeding) {
          for (let i = 0; i < 3; i++) {
            const now = Date.now();
            const job = await addJob(store, now, {
              name: `once-${fed++}`, jobType: "journal", runAt: new Date(now + Math.floor(rand() * 1_500)),
              payload: JSON.stringify({ ms: 20 + Math.floor(rand() * 380) }), timeoutSeconds: TIMEOUT_S, maxAttempts: MAX_ATTEMPTS,
            });
            oneTime.add(job.id);
          }
          await Bun.sleep(100);
        }
      })();
      // And a crontab-like caller ticks through HTTP besides the server's own timer.
      let current: ServerProcess | undefined;
      let calling = true;
      const caller = (async () => {
        while (calling) {
          if (current) await postTick(current.url).catch(() => {});
          await Bun.sleep(250);
        }
      })();

      for (let kill = 0; kill < KILLS; kill++) {
        current = await serve();
        await Bun.sleep(300 + Math.floor(rand() * 1_700));
        current.child.kill("SIGKILL");
        await current.exited;
        expect(current.child.signalCode).toBe("SIGKILL");
        current = undefined;
      }
      feeding = false;
      await feeder;

      // A last server drains what is left, taking over the dead processes' leases as they expire.
      current = await serve();
      const settled = async () => {
        const jobs = (await store.listJobs({ limit: 100_000 }, Date.now())).items;
        return jobs.every((j) => !oneTime.has(j.id) || !j.isActive) && jobs.every((j) => j.lockedBy === null);
      };
      const done = await waitUntil(settled, 40_000, 200);
      calling = false;
      await caller;
      current.child.kill("SIGTERM");
      expect(await current.exited).toBe(0);
      expect(done).toBe(true);

      const jobs = new Map((await store.listJobs({ limit: 100_000 }, Date.now())).items.map((j) => [j.id, j]));
      const runs = (await store.listRuns({ limit: 1_000_000 })).items;
      const entries = readJournal(journal);
      const succeeded = new Map<number, number>();
      for (const run of runs) if (run.status === "succeeded") succeeded.set(run.jobId, (succeeded.get(run.jobId) ?? 0) + 1);

      // No job lost: every one-time job ran to success (row gone), or gave up after its process died
      // under it max_attempts times: dead, with the reason, and one history row saying so.
      let dead = 0;
      for (const id of oneTime) {
        const row = jobs.get(id);
        if (row === undefined) {
          expect({ id, succeeded: succeeded.get(id) ?? 0 }).toEqual({ id, succeeded: 1 });
        } else {
          dead++;
          expect(row.isActive).toBe(false);
          expect(row.lastError).toBe(`gave up after ${MAX_ATTEMPTS} attempts: ${LEASE_EXPIRED_ERROR}`);
          expect(row.attempts).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
          const history = runs.filter((r) => r.jobId === id);
          expect(history.map((r) => [r.status, r.error])).toEqual([["failed", row.lastError]]);
          expect(history[0]!.attempt).toBeGreaterThan(MAX_ATTEMPTS);
        }
      }
      // A job dies only when MAX_ATTEMPTS of the KILLS struck while it was claimed, each after the
      // previous lease had run out: rare. A crash counted for a run that finished, or a job given up
      // early, would show here as many dead jobs.
      expect(dead).toBeLessThanOrEqual(Math.ceil(oneTime.size / 50));
      for (const id of recurring) expect(jobs.get(id)).toMatchObject({ isActive: true, lockedBy: null });

      // No concurrent double run, from the journal (every start, killed ones included) ...
      const spans = spansOf(entries);
      expect(overlappingRuns(spans)).toEqual([]);
      // ... and from the history rows: two runs of one job overlap only once the earlier one's lease had
      // passed (its lease from the journal: the start of that job and run id at or just after the row's start).
      const leaseOf = (run: (typeof runs)[number]) => spans
        .filter((s) => s.jobId === run.jobId && s.runId === run.runId && s.start >= run.startedAt.getTime())
        .sort((x, y) => x.start - y.start)[0]?.leaseUntil ?? Number.POSITIVE_INFINITY;
      const byJob = new Map<number, typeof runs>();
      for (const run of runs) byJob.set(run.jobId, [...(byJob.get(run.jobId) ?? []), run]);
      for (const list of byJob.values()) {
        list.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
        for (let i = 1; i < list.length; i++) {
          const [a, b] = [list[i - 1]!, list[i]!];
          if (b.startedAt < a.finishedAt) expect(b.startedAt.getTime()).toBeGreaterThanOrEqual(leaseOf(a));
        }
      }
      if (backend.name === "sqlite") {
        expect((store as SqliteStore).client.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()!.integrity_check).toBe("ok");
      }
      const starts = spans.length;
      console.log(`[sigkill ${backend.name}] seed ${seed}: ${oneTime.size} one-time jobs, ${starts} starts, ${runs.length} history rows, ${dead} dead after ${KILLS} kills`);
      expect(oneTime.size).toBeGreaterThan(300);
      expect(starts).toBeGreaterThan(runs.length); // some runs really were killed mid-way
    }, 180_000);
  }, { slow: true });
}
