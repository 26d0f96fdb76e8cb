import { describe, expect, test } from "bun:test";
import { buildApp } from "../../src/server/app.ts";
import type { createCaller } from "../../src/trpc/router.ts";
import { ADMIN_TOKEN, CRON_SECRET, freshCaller, freshDeps, rejects, T0 } from "./support.ts";

type Caller = ReturnType<typeof createCaller>;

/** One call of every procedure, with inputs that would be valid for the admin. */
const everyProcedure: [string, (c: Caller) => Promise<unknown>][] = [
  ["jobs.list", (c) => c.jobs.list()],
  ["jobs.get", (c) => c.jobs.get({ id: 1 })],
  ["jobs.create", (c) => c.jobs.create({ name: "noop", runAt: new Date(T0).toISOString() })],
  ["jobs.upsert", (c) => c.jobs.upsert({ name: "noop", runAt: new Date(T0).toISOString() })],
  ["jobs.update", (c) => c.jobs.update({ id: 1, timeoutSeconds: 5 })],
  ["jobs.delete", (c) => c.jobs.delete({ id: 1 })],
  ["jobs.pause", (c) => c.jobs.pause({ id: 1 })],
  ["jobs.resume", (c) => c.jobs.resume({ id: 1 })],
  ["jobs.runNow", (c) => c.jobs.runNow({ id: 1 })],
  ["jobs.retry", (c) => c.jobs.retry({ id: 1 })],
  ["jobs.changes", (c) => c.jobs.changes()],
  ["runs.list", (c) => c.runs.list()],
  ["jobTypes.list", (c) => c.jobTypes.list()],
  ["users.register", (c) => c.users.register({ email: "a@example.com" })],
  ["users.confirm", (c) => c.users.confirm({ id: 1, token: "x" })],
  ["users.requestPasswordReset", (c) => c.users.requestPasswordReset({ email: "a@example.com" })],
  ["users.get", (c) => c.users.get({ id: 1 })],
];

describe("every procedure needs the admin token", () => {
  for (const [name, call] of everyProcedure) {
    test(`${name}: no token, a wrong token or the cron secret → UNAUTHORIZED, nothing changed`, async () => {
      const { as, store, pokes, caller } = freshCaller();
      const job = await caller.jobs.create({ name: "noop", runAt: new Date(T0).toISOString() });
      const before = await store.getJob(job.id);
      pokes.count = 0;
      for (const token of [undefined, "", "wrong-token-0123456789abcdef", CRON_SECRET, `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
        await rejects(call(as(token)), "UNAUTHORIZED", "admin token");
      }
      expect(await store.getJob(job.id)).toEqual(before);
      expect((await store.listJobs({ limit: 10 }, T0)).items.map((j) => j.id)).toEqual([job.id]);
      expect(await store.getUserByEmail("a@example.com")).toBeUndefined();
      expect(pokes.count).toBe(0);
    });
  }

  test("the token is checked before the input is read and before any database access", async () => {
    const { as, store } = freshCaller();
    await store.close();
    await rejects(as("wrong-token-0123456789abcdef").jobs.create({ name: "" } as never), "UNAUTHORIZED");
    await rejects(as(undefined).jobs.list(), "UNAUTHORIZED");
  });
});

describe("HTTP: /trpc and /api/cron/run keep their secrets apart", () => {
  const get = (path: string, token?: string) =>
    new Request(`http://localhost${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const post = (path: string, body: unknown, token?: string) => new Request(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });

  test("no token, a wrong token, another scheme or the cron secret → 401 UNAUTHORIZED; the admin token → 200", async () => {
    const { deps } = freshDeps();
    const app = buildApp(deps);
    const unauthorized = [
      get("/trpc/jobs.list"),
      get("/trpc/jobs.list", "wrong-token-0123456789abcdef"),
      get("/trpc/jobs.list", CRON_SECRET),
      new Request("http://localhost/trpc/jobs.list", { headers: { authorization: `Basic ${ADMIN_TOKEN}` } }),
      post("/trpc/jobs.create", { name: "noop", runAt: new Date(T0).toISOString() }, CRON_SECRET),
    ];
    for (const request of unauthorized) {
      const response = await app.handle(request);
      expect(response.status).toBe(401);
      const body = await response.json() as { error: { message: string; data: Record<string, unknown> } };
      expect(body.error.data.code).toBe("UNAUTHORIZED");
      expect(body.error.message).toContain("admin token");
    }
    expect((await deps.store.listJobs({ limit: 10 }, T0)).items).toHaveLength(0);
    const ok = await app.handle(get("/trpc/jobs.list", ADMIN_TOKEN));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ result: { data: { items: [], nextCursor: null } } });
  });

  test("the admin token does not open POST /api/cron/run", async () => {
    const { deps } = freshDeps();
    const app = buildApp(deps);
    const response = await app.handle(new Request("http://localhost/api/cron/run", { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect(response.status).toBe(401);
    expect((await app.handle(new Request("http://localhost/api/cron/run", { method: "POST", headers: { authorization: `Bearer ${CRON_SECRET}` } }))).status).toBe(200);
  });

  test("errors answer the tRPC code and HTTP status, name the field, and carry no stack trace", async () => {
    const { deps } = freshDeps();
    const app = buildApp(deps);
    const bad = await app.handle(post("/trpc/jobs.create", { name: "noop", intervalMinutes: 0 }, ADMIN_TOKEN));
    expect(bad.status).toBe(400);
    const badBody = await bad.json() as { error: { message: string; data: Record<string, unknown> } };
    expect(badBody.error.message).toBe("intervalMinutes: must be at least 1");
    expect(badBody.error.data).toEqual({ code: "BAD_REQUEST", httpStatus: 400, path: "jobs.create", fieldErrors: { intervalMinutes: ["must be at least 1"] } });

    const missing = await app.handle(get(`/trpc/jobs.get?input=${encodeURIComponent(JSON.stringify({ id: 7 }))}`, ADMIN_TOKEN));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe("job 7 does not exist");

    await app.handle(post("/trpc/jobs.create", { name: "noop", runAt: new Date(T0).toISOString() }, ADMIN_TOKEN));
    const duplicate = await app.handle(post("/trpc/jobs.create", { name: "noop", runAt: new Date(T0).toISOString() }, ADMIN_TOKEN));
    expect(duplicate.status).toBe(409);

    // A database that fails in an unexpected way: an internal error, its details only in the log.
    await deps.store.close();
    const broken = await app.handle(get("/trpc/jobs.list", ADMIN_TOKEN));
    expect(broken.status).toBeGreaterThanOrEqual(500);
    const text = await broken.text();
    expect(JSON.parse(text).error.message).toBe("internal error (see the server log)");
    expect(text).not.toContain("stack");
    expect(text).not.toMatch(/\.ts:\d+|at \w+ \(/);
  });
});
