import { expect, test } from "bun:test";
import path from "node:path";
import { backends, describeOn } from "../support/backends.ts";
import { onCleanup } from "../support/db.ts";
import { hasStackTrace, startServer } from "../support/server-process.ts";
import { addJob } from "../support/jobs.ts";
import { SECRETS } from "../support/server.ts";

const ONE_TIME = 2000;
const RECURRING = 50;
const CALLERS = 20;
const HOUR = 3_600_000;

for (const backend of backends) {
  describeOn(backend, `20 processes calling POST /api/cron/run at once on a real \`app serve\` (${backend.name})`, () => {
    test("2,000 one-time jobs coming due over 200 ms and 50 recurring ones: each one-time job has exactly one succeeded run and no row left, each recurring job ran once, no 5xx", async () => {
      const { store, databaseUrl } = await backend.open();
      // Due a few seconds from now: the server's own timer comes due at the same moment as the
      // callers. The one-time jobs come due 10 a millisecond from then on: the timer claims a
      // slot's jobs before it, so with all of them due at once it would hold every one of them
      // before any caller asked.
      const dueAt = Date.now() + 6_000;
      const due = new Date(dueAt);
      const onceDue = new Map<number, number>();
      for (let i = 0; i < ONE_TIME; i++) {
        const at = dueAt + Math.floor(i / 10);
        onceDue.set((await addJob(store, dueAt - 10_000, { name: `once-${i}`, runAt: new Date(at) })).id, at);
      }
      const ids = { once: new Set(onceDue.keys()), recurring: new Set<number>() };
      for (let i = 0; i < RECURRING; i++) {
        ids.recurring.add((await addJob(store, dueAt - 10_000, { name: `hourly-${i}`, intervalMinutes: 60, runAt: due, nextRunAt: due })).id);
      }
      const server = await startServer({ databaseUrl, entry: "app" });

      const callers = Array.from({ length: CALLERS }, () => {
        const child = Bun.spawn([process.execPath, path.join(import.meta.dir, "../support/post-at.ts"), server.url, SECRETS.cronSecret, String(dueAt)], {
          stdout: "pipe", stderr: "inherit",
        });
        onCleanup(() => { child.kill("SIGKILL"); });
        return child;
      });
      expect(await Promise.all(callers.map((c) => c.exited))).toEqual(Array(CALLERS).fill(0));
      const answers = await Promise.all(callers.map(async (c) => {
        const lines = (await new Response(c.stdout).text()).trim().split("\n");
        return JSON.parse(lines[lines.length - 1]!) as { status: number; started: number; body: string };
      }));
      expect(answers.map((a) => a.status)).toEqual(Array(CALLERS).fill(200));
      for (const answer of answers) expect(hasStackTrace(answer.body)).toBe(false);
      const claimedByCallers = answers.reduce((sum, a) => sum + (JSON.parse(a.body) as { claimed: number }).claimed, 0);

      // The timer may still be finishing its share: wait until no job is leased.
      const settle = Date.now() + 30_000;
      while ((await store.stats(Date.now())).states.running > 0 && Date.now() < settle) await Bun.sleep(50);

      const runs = (await store.listRuns({ limit: 100_000 })).items;
      expect(runs).toHaveLength(ONE_TIME + RECURRING);
      const perJob = new Map<number, typeof runs>();
      for (const run of runs) perJob.set(run.jobId, [...(perJob.get(run.jobId) ?? []), run]);
      for (const id of [...ids.once, ...ids.recurring]) {
        expect(perJob.get(id)?.map((r) => r.status)).toEqual(["succeeded"]);
        expect(perJob.get(id)![0]!.scheduledFor?.getTime()).toBe(onceDue.get(id) ?? dueAt);
      }
      const left = (await store.listJobs({ limit: 100_000 }, Date.now())).items;
      expect(left.map((j) => j.id).sort((a, b) => a - b)).toEqual([...ids.recurring].sort((a, b) => a - b));
      for (const job of left) {
        expect(job).toMatchObject({ attempts: 0, lastError: null, lockedBy: null, lockedUntil: null, isActive: true });
        expect(job.nextRunAt?.getTime()).toBe(dueAt + HOUR);
      }
      // Every run came from one of the callers' ticks or the server's own timer ...
      expect(claimedByCallers).toBeLessThanOrEqual(ONE_TIME + RECURRING);
      // ... and they really contended: several ticks claimed jobs, each one's history rows under its own run id.
      const perTick = new Map<string, number>();
      for (const run of runs) perTick.set(run.runId, (perTick.get(run.runId) ?? 0) + 1);
      expect(perTick.size).toBeGreaterThanOrEqual(2);
      const callerTicks = answers.map((a) => JSON.parse(a.body) as { runId: string; claimed: number }).filter((t) => t.claimed > 0);
      for (const tick of callerTicks) expect(perTick.get(tick.runId)).toBe(tick.claimed);
      expect(callerTicks.length).toBeGreaterThanOrEqual(1);
      expect(server.logs().filter((l) => l.level === "error")).toEqual([]);
    }, 90_000);
  });
}
