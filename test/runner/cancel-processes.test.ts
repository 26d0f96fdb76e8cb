/**
 * Cancel across processes (SPEC §5.3.2): two `app serve` processes on one database (PostgreSQL,
 * or one SQLite file); an `http` job hangs in a real request on the first, the cancel is sent
 * to the second, and the first aborts the run within a second.
 */
import { expect, test } from "bun:test";
import { stateOf } from "../../src/lifecycle/lifecycle.ts";
import { backends, describeOn } from "../support/backends.ts";
import { startServer, waitUntil } from "../support/server-process.ts";
import { SECRETS } from "../support/server.ts";
import { hangingTarget } from "../support/hanging-target.ts";

/** A tRPC mutation over HTTP, as any client sends it. */
async function mutate(url: string, procedure: string, input: unknown) {
  const response = await fetch(`${url}/trpc/${procedure}`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRETS.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  return { status: response.status, body: await response.json() as any };
}

for (const backend of backends) {
  describeOn(backend, `cancel across two app serve processes on ${backend.name}`, () => {
    test("the run hanging on one server is cancelled through the other: recorded cancelled within 1 s, lease cleared, the request's socket closed", async () => {
      const { store, databaseUrl } = await backend.open();
      const target = hangingTarget();
      const a = await startServer({ databaseUrl });
      const created = await mutate(a.url, "jobs.create", { name: "hook", jobType: "http", runAt: new Date(Date.now()).toISOString(), payload: { url: target.url } });
      expect(created.status).toBe(200);
      const id = created.body.result.data.id as number;
      // Only A is up: A's timer runs the job.
      await target.arrived;
      const b = await startServer({ databaseUrl });
      expect(stateOf((await store.getJob(id))!, Date.now())).toBe("running");

      const cancelled = await mutate(b.url, "jobs.cancel", { id });
      const since = performance.now();
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.result.data).toMatchObject({ id, state: "running" });
      const recorded = await waitUntil(async () => (await store.listRuns({ limit: 5, jobId: id })).items.length > 0, 10_000, 5);
      const elapsedMs = performance.now() - since;
      expect(recorded).toBe(true);
      expect(elapsedMs).toBeLessThan(1000);

      const [run] = (await store.listRuns({ limit: 5, jobId: id })).items;
      expect(run).toMatchObject({ status: "cancelled", error: "cancelled", runner: a.runner });
      const row = (await store.getJob(id))!;
      expect(row).toMatchObject({ isActive: false, ended: null, lastError: "cancelled", lockedBy: null, lockedUntil: null, cancelRequestedAt: null });
      await target.closed;
      expect(target.requests()).toBe(1);

      // Not running any more: a second cancel is refused by either server.
      const again = await mutate(a.url, "jobs.cancel", { id });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain(`job ${id} is not running (it is paused)`);
    }, 60_000);
  });
}
