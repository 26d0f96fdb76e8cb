import { describe, expect, test } from "bun:test";
// From source: the packed package, imported by its name from Node, Bun and a bundler, is
// tested in test/package/client-package.test.ts (it needs the build that `npm pack` runs).
import { createClient, TRPCClientError, type AppRouter } from "../../src/client.ts";
import { buildApp } from "../../src/server/app.ts";
import { onCleanup } from "../support/db.ts";
import { ADMIN_TOKEN, CRON_SECRET, freshDeps, T0 } from "./support.ts";

/** The real app listening on a free port; stopped after the test. */
function listening() {
  const env = freshDeps();
  const app = buildApp(env.deps).listen({ hostname: "127.0.0.1", port: 0 });
  onCleanup(async () => { await app.stop(true); });
  return { ...env, url: `http://127.0.0.1:${app.server!.port}` };
}

/** The error a call must fail with. */
const failure = (call: Promise<unknown>) =>
  call.then(() => { throw new Error("the call should have failed"); }, (err: unknown) => err as TRPCClientError<AppRouter>);

describe("the typed client against a running server", () => {
  test("create, list, runNow, delete", async () => {
    const { url, store } = listening();
    const client = createClient({ url, token: ADMIN_TOKEN });
    const job = await client.jobs.create.mutate({ name: "noop", runAt: new Date(T0 + 3_600_000), timeoutSeconds: 5 });
    expect(job).toMatchObject({ name: "noop", jobType: "noop", nextRunAt: new Date(T0 + 3_600_000).toISOString(), timeoutSeconds: 5 });
    const recurring = await client.jobs.create.mutate({ name: "tick", jobType: "noop", intervalMinutes: 5 });

    // Calls made together go in one batched request.
    const [page, types] = await Promise.all([client.jobs.list.query({ limit: 10 }), client.jobTypes.list.query()]);
    expect(page.items.map((j) => j.id)).toEqual([recurring.id, job.id]);
    expect(page.nextCursor).toBeNull();
    expect(types.map((t) => t.type)).toContain("noop");

    const run = await client.jobs.runNow.mutate({ id: job.id });
    expect(run).toMatchObject({ id: job.id, status: "succeeded" });
    expect(await store.getJob(job.id)).toBeUndefined();

    expect(await client.jobs.delete.mutate({ id: recurring.id })).toEqual({ id: recurring.id, wasRunning: false });
    expect((await client.jobs.list.query()).items).toHaveLength(0);
    expect((await client.runs.list.query({ jobId: job.id })).items).toMatchObject([{ status: "succeeded" }]);
  });

  test("errors arrive as TRPCClientError with the server's code and message", async () => {
    const { url } = listening();
    const client = createClient({ url: `${url}/trpc`, token: ADMIN_TOKEN, batch: false });
    const clientError = await failure(client.jobs.create.mutate({ name: "noop", cron: "not a cron" }));
    expect(clientError).toBeInstanceOf(TRPCClientError);
    expect(clientError.message).toMatch(/^cron: /);
    expect(clientError.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    const missing = await failure(client.jobs.get.query({ id: 42 }));
    expect(missing.data).toMatchObject({ code: "NOT_FOUND" });

    const intruder = createClient({ url, token: CRON_SECRET });
    const denied = await failure(intruder.jobs.list.query());
    expect(denied.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });

  test("over the network: no token, a wrong token or the cron secret → 401 on /trpc; the admin token → 401 on /api/cron/run", async () => {
    const { url, store } = listening();
    const body = JSON.stringify({ name: "noop", runAt: new Date(T0).toISOString() });
    for (const authorization of [undefined, "Bearer wrong-token-0123456789abcdef", `Bearer ${CRON_SECRET}`, `Token ${ADMIN_TOKEN}`]) {
      const headers: Record<string, string> = { "content-type": "application/json", ...(authorization ? { authorization } : {}) };
      const response = await fetch(`${url}/trpc/jobs.create`, { method: "POST", headers, body });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { data: { code: string } } }).error.data.code).toBe("UNAUTHORIZED");
    }
    expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(0);
    const cron = await fetch(`${url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(cron.status).toBe(401);
  });

  test("the client module loads no server code (only the router's type)", async () => {
    const built = await Bun.build({ entrypoints: [`${import.meta.dir}/../../src/client.ts`], target: "bun" });
    expect(built.success).toBe(true);
    const code = await built.outputs[0]!.text();
    for (const serverOnly of ["bun:sqlite", "drizzle", "Elysia", "fetchRequestHandler", "JobService", "initTRPC"]) {
      expect(code).not.toContain(serverOnly);
    }
  });
});
