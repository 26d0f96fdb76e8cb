import { expect, test } from "bun:test";
import path from "node:path";
import { backends, describeOn } from "../support/backends.ts";
import { tempDir } from "../support/db.ts";
import { overlappingRuns, readJournal, spansOf } from "../support/fault-jobs.ts";
import { postTick, startServer, waitUntil } from "../support/server-process.ts";
import { addJob } from "../support/jobs.ts";

const LEASE_MARGIN_MS = 2_000;
const ABORT_GRACE_MS = 200;

for (const backend of backends) {
  describeOn(backend, `a job that ignores its abort signal and never settles, in a real server (${backend.name})`, () => {
    test("recorded timed_out, its lease kept until it expires, no second copy before that, and the ticks and the server keep working", async () => {
      const { store, databaseUrl } = await backend.open();
      const journal = path.join(tempDir(), "journal.jsonl");
      const now = Date.now();
      // Due every second, times out after 1 s, never settles: lease = claim + 1 s + 2 s.
      const stuck = await addJob(store, now, {
        name: "stuck", jobType: "journal", cron: "* * * * * *", timezone: "UTC", nextRunAt: new Date(now), timeoutSeconds: 1,
        payload: JSON.stringify({ ms: 1e9, ignoreAbort: true }),
      });
      const server = await startServer({
        databaseUrl, entry: "test-jobs",
        testJobs: { journal, graceMs: 1_000, runner: { leaseMarginMs: LEASE_MARGIN_MS, abortGraceMs: ABORT_GRACE_MS } },
      });

      // Meanwhile other jobs keep coming due, and a caller ticks through HTTP.
      const others: number[] = [];
      const statuses: number[] = [];
      let leaseKeptAfterRecord = false;
      const until = Date.now() + 8_000;
      while (Date.now() < until) {
        const at = Date.now();
        others.push((await addJob(store, at, { name: `other-${others.length}`, jobType: "journal", runAt: new Date(at) })).id);
        statuses.push((await postTick(server.url)).status);
        statuses.push((await fetch(`${server.url}/healthz`)).status);
        // After a timed-out run is recorded, the row still holds that run's lease until it expires
        // (the run may still be going: nothing may claim the job before then).
        const [latest] = (await store.listRuns({ limit: 1, jobId: stuck.id })).items;
        const row = await store.getJob(stuck.id);
        // (held by no other run since: its own run id, or none once recorded)
        if (latest && row?.lockedUntil && (row.lockedBy === null || row.lockedBy === latest.runId)
          && row.lockedUntil > latest.finishedAt && row.lockedUntil > new Date()) leaseKeptAfterRecord = true;
        await Bun.sleep(250);
      }

      const runs = (await store.listRuns({ limit: 1000, jobId: stuck.id })).items;
      expect(runs.length).toBeGreaterThanOrEqual(2);
      for (const run of runs) expect(run).toMatchObject({ status: "timed_out", error: "timed out after 1 s" });
      expect(leaseKeptAfterRecord).toBe(true);
      // Every copy is still running (none ever settles); each one started only after the previous one's lease had passed.
      const starts = readJournal(journal).filter((e) => e.jobId === stuck.id && e.event === "start");
      expect(starts.length).toBeGreaterThanOrEqual(2);
      expect(overlappingRuns(spansOf(readJournal(journal)).filter((s) => s.jobId === stuck.id))).toEqual([]);
      for (let i = 1; i < starts.length; i++) expect(starts[i]!.at).toBeGreaterThanOrEqual(starts[i - 1]!.leaseUntil!);

      // The other jobs all ran, and the server answered every request.
      expect(await waitUntil(async () => (await store.listJobs({ limit: 1000 }, Date.now())).items.length === 1, 5_000)).toBe(true);
      const otherRuns = (await store.listRuns({ limit: 1000, status: "succeeded" })).items.map((r) => r.jobId);
      expect(new Set(otherRuns)).toEqual(new Set(others));
      expect(statuses.every((s) => s === 200)).toBe(true);

      // And it still stops on SIGTERM, with the stuck copies in it (they never settle: it did not wait for them).
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.logs().some((l) => l.msg === "stopped")).toBe(true);
      expect(readJournal(journal).some((e) => e.jobId === stuck.id && e.event === "end")).toBe(false);
    }, 40_000);
  });
}
