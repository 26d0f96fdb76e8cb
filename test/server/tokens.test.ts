// Named admin tokens and read-only viewer tokens (SPEC §7), over HTTP through the real app.
import { describe, expect, test } from "bun:test";
import { actorLabel } from "../../src/actor.ts";
import { buildApp } from "../../src/server/app.ts";
import { TokenTable } from "../../src/secrets.ts";
import { contextFromRequest, createControlPlane } from "../../src/trpc/context.ts";
import { adminProcedure, createCallerFactory, router } from "../../src/trpc/init.ts";
import { freshDeps } from "../trpc/support.ts";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdefgh";
const VIEWER = "viewer-token-0123456789abcdef";
const AUDITOR = "auditor-token-0123456789abcd";
const SECRETS = { cronSecret: "cron-secret-0123456789abcdef", adminToken: `alice:${ALICE},bob:${BOB}`, viewerToken: `carol:${VIEWER},audit:${AUDITOR}` };

function app() {
  const env = freshDeps();
  return { ...env, app: buildApp({ ...env.deps, secrets: SECRETS }) };
}

const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
  new Request(`http://localhost${path}`, {
    ...init,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
  });

const create = (token: string | undefined, name = "nightly") =>
  call("/trpc/jobs.create", token, { method: "POST", body: JSON.stringify({ name, jobType: "noop", cron: "0 3 * * *" }) });

describe("ADMIN_TOKEN with named tokens", () => {
  test("each named token opens /trpc; a name or a whole entry is no token", async () => {
    const { app: server, store } = app();
    expect((await server.handle(create(ALICE, "a"))).status).toBe(200);
    expect((await server.handle(create(BOB, "b"))).status).toBe(200);
    for (const wrong of ["alice", `alice:${ALICE}`, `${ALICE}x`]) expect((await server.handle(create(wrong, "c"))).status).toBe(401);
    expect((await store.listJobs({ limit: 100 }, Date.now())).items.map((j) => j.name).sort()).toEqual(["a", "b"]);
  });

  test("a plain ADMIN_TOKEN keeps working, named admin", () => {
    const table = TokenTable.from({ adminToken: "plain-token-0123456789" });
    expect(table.identify("plain-token-0123456789")).toEqual({ name: "admin", token: "plain-token-0123456789", role: "admin" });
    expect(table.identify("plain-token-012345678")).toBeUndefined();
    expect(table.identify(undefined)).toBeUndefined();
  });
});

describe("VIEWER_TOKEN", () => {
  test("reads everything: jobs, runs, job types and the dashboard's read models", async () => {
    const { app: server } = app();
    expect((await server.handle(create(ALICE))).status).toBe(200);
    for (const path of ["/trpc/jobs.list", "/trpc/runs.list", "/trpc/jobTypes.list", "/trpc/jobs.get?input=%7B%22id%22%3A1%7D", "/trpc/dashboard.health", "/trpc/dashboard.summary"]) {
      for (const token of [VIEWER, AUDITOR]) {
        const res = await server.handle(call(path, token));
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
      }
    }
  });

  test("changes nothing: every mutation is FORBIDDEN (403), alone or in a batch, and no row moves", async () => {
    const { app: server, store } = app();
    expect((await server.handle(create(ALICE))).status).toBe(200);
    const before = JSON.stringify(await store.listJobs({ limit: 100 }, Date.now()));
    const mutations: [string, unknown][] = [
      ["jobs.create", { name: "x", jobType: "noop", cron: "0 3 * * *" }], ["jobs.upsert", { name: "x", jobType: "noop", cron: "0 3 * * *" }],
      ["jobs.update", { id: 1, cron: "0 4 * * *" }], ["jobs.delete", { id: 1 }], ["jobs.pause", { id: 1 }], ["jobs.resume", { id: 1 }],
      ["jobs.runNow", { id: 1 }], ["jobs.retry", { id: 1 }], ["users.register", { email: "a@b.c", password: "pw-0123456789" }],
    ];
    for (const [name, input] of mutations) {
      const res = await server.handle(call(`/trpc/${name}`, VIEWER, { method: "POST", body: JSON.stringify(input) }));
      const body = await res.json() as { error: { data: { code: string }; message: string } };
      expect({ name, status: res.status, code: body.error.data.code }).toEqual({ name, status: 403, code: "FORBIDDEN" });
      expect(body.error.message).toContain("carol");
    }
    const batch = await server.handle(call("/trpc/jobs.pause,jobs.delete?batch=1", VIEWER, { method: "POST", body: JSON.stringify({ 0: { id: 1 }, 1: { id: 1 } }) }));
    expect(batch.status).toBe(403);
    expect(JSON.stringify(await store.listJobs({ limit: 100 }, Date.now()))).toBe(before);
  });

  test("a viewer's write body is never read: a stream that would fail if pulled", async () => {
    const { app: server } = app();
    let pulled = false;
    for (const token of [VIEWER, undefined, "wrong-token-0123456789"]) {
      // highWaterMark 0: nothing is pulled until someone reads.
      const body = new ReadableStream({ pull() { pulled = true; throw new Error("read"); } }, { highWaterMark: 0 });
      const res = await server.handle(new Request("http://localhost/trpc/jobs.create", {
        method: "POST", body, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        // @ts-expect-error: Bun needs this for a streamed request body
        duplex: "half",
      }));
      expect(res.status).toBe(token === VIEWER ? 403 : 401);
    }
    expect(pulled).toBe(false);
  });
});

describe("the actor", () => {
  test("procedures see ctx.actor: the token's name, its role and the client kind from X-Cronjobs-Client", async () => {
    const { deps } = freshDeps();
    const plane = createControlPlane({ ...deps, secrets: SECRETS });
    const whoami = router({ whoami: adminProcedure.query(({ ctx }) => ctx.actor) });
    const caller = createCallerFactory(whoami);
    const as = (token: string, client?: string) =>
      caller(contextFromRequest(plane, new Request("http://localhost/trpc", { headers: { authorization: `Bearer ${token}`, ...(client ? { "x-cronjobs-client": client } : {}) } })));
    expect(await as(BOB, "cli").whoami()).toEqual({ name: "bob", role: "admin", client: "cli" });
    expect(await as(ALICE, "dashboard").whoami()).toEqual({ name: "alice", role: "admin", client: "dashboard" });
    expect(await as(VIEWER).whoami()).toEqual({ name: "carol", role: "viewer", client: "client" });
    expect(await as(AUDITOR, "something-else").whoami()).toEqual({ name: "audit", role: "viewer", client: "client" });
    expect(actorLabel({ name: "bob", role: "admin", client: "cli" })).toBe("bob (cli)");
  });
});
