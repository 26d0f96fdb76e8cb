/**
 * The bugs the fuzzer found, each as a named case (so they stay fixed whatever the seed).
 */
import { describe, expect, test } from "bun:test";
import { buildApp } from "../../src/server/app.ts";
import { MAX_BODY_BYTES as TRPC_MAX } from "../../src/server/trpc-route.ts";
import { ADMIN_TOKEN, freshDeps, T0 } from "../trpc/support.ts";
import { dumpSqlite } from "./databases.ts";
import { cronRun, endlessStream, streamOf } from "./requests.ts";

const runAt = new Date(T0 + 3_600_000).toISOString();

function setup() {
  const env = freshDeps();
  const app = buildApp(env.deps);
  const post = async (procedure: string, body: string, headers: Record<string, string> = {}) => {
    const response = await app.handle(new Request(`http://localhost/trpc/${procedure}`, {
      method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...headers }, body,
    }));
    return { status: response.status, type: response.headers.get("content-type"), body: await response.json() as { error?: { message: string } } };
  };
  return { ...env, app, post, dump: () => dumpSqlite(env.store.client) };
}

describe("found by the fuzzer", () => {
  test("a payload nested 10,000 levels deep is refused by name, not by a stack overflow", async () => {
    const { post, dump } = setup();
    const before = dump();
    const deep = `{"name":"noop","runAt":"${runAt}","payload":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const answer = await post("jobs.create", deep);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toBe("payload: nested deeper than 64 levels");
    expect(dump()).toBe(before);
    // 64 levels are still a payload (refused here only because noop takes none).
    const ok = await post("jobs.create", `{"name":"noop","runAt":"${runAt}","payload":${"[".repeat(64)}${"]".repeat(64)}}`);
    expect(ok.body.error?.message).toBe('payload: job type "noop" takes no payload');
  });

  test("a job for a user that does not exist names userId, not the database's foreign key", async () => {
    const { post, dump } = setup();
    const job = (await post("jobs.create", JSON.stringify({ name: "noop", runAt }))).body as unknown as { result: { data: { id: number } } };
    const before = dump();
    for (const [procedure, input] of [
      ["jobs.create", { name: "noop", runAt, userId: 999 }],
      ["jobs.upsert", { name: "noop", runAt, userId: 999 }],
      ["jobs.update", { id: job.result.data.id, userId: 999 }],
    ] as const) {
      const answer = await post(procedure, JSON.stringify(input));
      expect([procedure, answer.status, answer.body.error?.message]).toEqual([procedure, 400, "userId: user 999 does not exist"]);
    }
    expect(dump()).toBe(before);
  });

  test("a name with a lone surrogate is refused: stored, it would become U+FFFD and collide with others", async () => {
    const { post, dump } = setup();
    const before = dump();
    for (const name of ["\\ud800", "x\\udfffy"]) {
      const answer = await post("jobs.create", `{"name":"${name}","jobType":"noop","runAt":"${runAt}"}`);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toBe("name: must be valid Unicode text (it has a lone surrogate)");
    }
    expect(dump()).toBe(before);
  });

  test("text with NUL is refused by name (PostgreSQL cannot store it, and its error used to leak the SQL)", async () => {
    const { app, post, dump } = setup();
    const before = dump();
    const create = await post("jobs.create", `{"name":"a\\u0000b","jobType":"noop","runAt":"${runAt}"}`);
    expect([create.status, create.body.error?.message]).toEqual([400, "name: must not contain NUL characters"]);
    const search = await app.handle(new Request(`http://localhost/trpc/jobs.list?input=${encodeURIComponent('{"search":"a\\u0000"}')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect(search.status).toBe(400);
    expect(dump()).toBe(before);
  });

  test("times before the year 1 or after 9999 are refused by name (PostgreSQL cannot store them)", async () => {
    const { app, post, dump } = setup();
    const before = dump();
    for (const time of ["0000-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"]) {
      const create = await post("jobs.create", JSON.stringify({ name: "noop", runAt: time }));
      expect([create.status, create.body.error?.message]).toEqual([400, "runAt: must be between the years 0001 and 9999 (UTC)"]);
    }
    const list = await app.handle(new Request(`http://localhost/trpc/runs.list?input=${encodeURIComponent('{"from":"0000-01-01T00:00:00-23:59"}')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect(list.status).toBe(400);
    expect((await post("jobs.create", JSON.stringify({ name: "noop", runAt: "9999-12-31T23:59:59.999Z" }))).status).toBe(200);
    expect(dump()).not.toBe(before);
  });

  test("/trpc: a chunked body past the limit, or one that never ends, is 413 (the Content-Length check alone missed it)", async () => {
    const { app } = setup();
    for (const body of [streamOf(TRPC_MAX + 1), endlessStream()]) {
      const response = await app.handle(new Request("http://localhost/trpc/jobs.create", {
        method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body,
      }));
      expect(response.status).toBe(413);
    }
  });

  test("POST /api/cron/run: a body that never ends is 413 (it used to be buffered whole first)", async () => {
    const { app, deps } = setup();
    const response = await app.handle(cronRun({ headers: { authorization: `Bearer ${deps.secrets.cronSecret}` }, body: endlessStream() }));
    expect(response.status).toBe(413);
  });

  test("/trpc: the errors tRPC answers before any procedure say they are JSON", async () => {
    const { app, post } = setup();
    expect((await post("jobs.create", "{}", { "content-type": "text/plain" })).type).toBe("application/json");
    const mixed = await app.handle(new Request("http://localhost/trpc/jobs.list,jobs.create?batch=1", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect([mixed.status, mixed.headers.get("content-type")]).toEqual([400, "application/json"]);
    const streamed = await app.handle(new Request("http://localhost/trpc/jobs.list", { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "trpc-accept": "application/jsonl" } }));
    expect([streamed.status, streamed.headers.get("content-type")]).toEqual([400, "application/json"]);
  });
});
