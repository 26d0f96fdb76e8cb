import { describe, expect, test } from "bun:test";
import net from "node:net";
import path from "node:path";
import { ManualClock } from "../../src/clock.ts";
import type { JobContext } from "../../src/jobs/cron-job.ts";
import { HttpJob, httpPayloadSchema, type HttpPayload } from "../../src/jobs/http-job.ts";
import { defaultRegistry } from "../../src/jobs/registry.ts";
import { silentLogger } from "../../src/logger.ts";
import { verifySignature } from "../../src/signature.ts";
import type { CronJobRecord } from "../../src/store/store.ts";
import { freePort } from "../support/binary.ts";
import { onCleanup } from "../support/cleanup.ts";
import { buildApp } from "../../src/server/app.ts";
import { freshRunner, T0, tempDir } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { ADMIN_TOKEN, freshCaller, freshDeps, rejects } from "../trpc/support.ts";
import { TEST_ACTOR } from "../support/runtime.ts";

const SECRET = "job-signing-secret-0123456789";

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** A web app on loopback: `routes` answer by path; every request it gets is in `seen`. */
function target(routes: Record<string, (req: Request) => Response | Promise<Response>>) {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ method: req.method, path: url.pathname, headers: req.headers, body: await req.text() });
      return routes[url.pathname]?.(req) ?? new Response("no such page", { status: 404 });
    },
  });
  onCleanup(() => server.stop(true));
  return { seen, url: (path: string) => `http://127.0.0.1:${server.port}${path}` };
}

/** A runner whose registry has the `http` job, over a fresh database and a manual clock at T0. */
function setup(allow?: string[]) {
  return freshRunner({ abortGraceMs: 50 }, defaultRegistry([], { jobSigningSecret: SECRET, httpJobAllow: allow }));
}

async function runHttpJob(env: ReturnType<typeof setup>, payload: HttpPayload, timeoutSeconds = 10) {
  const job = await addJob(env.store, T0, { name: "ping", jobType: "http", payload: JSON.stringify(payload), runAt: new Date(T0), timeoutSeconds });
  const result = await env.runner.runNow(job.id, TEST_ACTOR);
  return { job, result };
}

/** The job run directly with a context that keeps what it logs (its output). */
async function runDirect(payload: HttpPayload, allow?: string[]) {
  const lines: string[] = [];
  const job = new HttpJob({ signingSecret: SECRET, allowHosts: allow });
  const record = { id: 7, attempts: 1, lockedBy: "run-1", nextRunAt: new Date(T0) } as CronJobRecord;
  const ctx = {
    job: record, payload: httpPayloadSchema.parse(payload), clock: new ManualClock(T0), logger: silentLogger,
    signal: new AbortController().signal, log: (line: string) => { lines.push(line); },
  } as unknown as JobContext<HttpPayload>;
  let error: string | undefined;
  try {
    await job.run(ctx);
  } catch (err) {
    error = (err as Error).message;
  }
  return { error, output: lines.join("\n") };
}

describe("http job", () => {
  test("the request carries the job's headers and a signature verifySignature accepts, and only that", async () => {
    const app = target({ "/hook": () => new Response("ok") });
    const env = setup();
    const { job, result } = await runHttpJob(env, { url: app.url("/hook"), body: { hello: "world" } });
    expect(result.status).toBe("succeeded");
    expect(app.seen).toHaveLength(1);
    const req = app.seen[0]!;
    const run = (await env.store.listRuns({ limit: 1 })).items[0]!;
    expect(req.method).toBe("POST");
    expect(req.body).toBe('{"hello":"world"}');
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.get("x-cronjobs-job-id")).toBe(String(job.id));
    expect(req.headers.get("x-cronjobs-run-id")).toBe(run.runId);
    expect(req.headers.get("x-cronjobs-attempt")).toBe("1");
    expect(req.headers.get("x-cronjobs-scheduled-for")).toBe(new Date(T0).toISOString());
    const header = req.headers.get("x-cronjobs-signature");
    expect(header).toMatch(new RegExp(`^t=${Math.floor(T0 / 1000)},v1=[0-9a-f]{64}$`));

    expect(await verifySignature({ secret: SECRET, header, body: req.body, now: T0 })).toBe(true);
    expect(await verifySignature({ secret: SECRET, header, body: new TextEncoder().encode(req.body), now: T0 + 299_000 })).toBe(true);
    expect(await verifySignature({ secret: SECRET, header, body: '{"hello":"World"}', now: T0 })).toBe(false);
    expect(await verifySignature({ secret: `${SECRET}x`, header, body: req.body, now: T0 })).toBe(false);
    // Replayed later, or stamped in the future: outside the window either way.
    expect(await verifySignature({ secret: SECRET, header, body: req.body, now: T0 + 301_000 })).toBe(false);
    expect(await verifySignature({ secret: SECRET, header, body: req.body, now: T0 - 301_000 })).toBe(false);
    expect(await verifySignature({ secret: SECRET, header, body: req.body, now: T0 + 20_000, toleranceSeconds: 10 })).toBe(false);
    // The time is signed too: moving it breaks the signature.
    const moved = header!.replace(/^t=\d+/, `t=${Math.floor(T0 / 1000) + 1}`);
    expect(await verifySignature({ secret: SECRET, header: moved, body: req.body, now: T0 })).toBe(false);
    expect(await verifySignature({ secret: SECRET, header: null, body: req.body, now: T0 })).toBe(false);
    expect(await verifySignature({ secret: SECRET, header: "t=1,v1=zz", body: req.body, now: 1000 })).toBe(false);
  });

  test("method, headers and a string body are sent as given; GET sends no body", async () => {
    const app = target({ "/put": () => new Response(null, { status: 204 }), "/get": () => new Response("fine") });
    const env = setup();
    expect((await runHttpJob(env, { url: app.url("/put"), method: "PUT", headers: { "X-Team": "ops", "Content-Type": "text/csv" }, body: "a,b" })).result.status).toBe("succeeded");
    expect((await runHttpJob(env, { url: app.url("/get?x=1"), method: "GET" })).result.status).toBe("succeeded");
    const [put, get] = app.seen;
    expect(put).toMatchObject({ method: "PUT", body: "a,b" });
    expect(put!.headers.get("x-team")).toBe("ops");
    expect(put!.headers.get("content-type")).toBe("text/csv");
    expect(get).toMatchObject({ method: "GET", path: "/get", body: "" });
    expect(await verifySignature({ secret: SECRET, header: get!.headers.get("x-cronjobs-signature"), body: "", now: T0 })).toBe(true);
  });

  test("a 500 answer fails the run with the status and the start of the body, in the error and the output", async () => {
    const body = `database is down\n${"x".repeat(500)}`;
    const app = target({ "/boom": () => new Response(body, { status: 500 }) });
    const env = setup();
    const { job, result } = await runHttpJob(env, { url: app.url("/boom") });
    expect(result.status).toBe("failed");
    expect(result.error).toStartWith("HTTP 500: database is down xxx");
    const row = (await env.store.getJob(job.id))!;
    expect(row.lastError).toStartWith("HTTP 500: database is down");
    expect((await env.store.listRuns({ limit: 1 })).items[0]).toMatchObject({ status: "failed", error: result.error, output: body });
    const direct = await runDirect({ url: app.url("/boom") });
    expect(direct.error).toBe(result.error);
    expect(direct.output).toBe(body);
  });

  test("a 302 fails naming its Location, and the redirect's target is never called", async () => {
    const app = target({
      "/old": () => new Response(null, { status: 302, headers: { location: app.url("/elsewhere") } }),
      "/elsewhere": () => new Response("moved here"),
    });
    const env = setup();
    const { result } = await runHttpJob(env, { url: app.url("/old") });
    expect(result.status).toBe("failed");
    expect(result.error).toBe(`HTTP 302: redirect to ${app.url("/elsewhere")} not followed`);
    expect(app.seen.map((r) => r.path)).toEqual(["/old"]);
  });

  test("a target that never answers: timed_out at the job's timeout, and the connection is closed", async () => {
    let connected!: () => void;
    let closed!: () => void;
    const events = { connected: new Promise<void>((r) => { connected = r; }), closed: new Promise<void>((r) => { closed = r; }) };
    const server = net.createServer((socket) => {
      connected();
      socket.on("data", () => {}); // reads the request, never answers
      socket.on("close", () => closed());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as net.AddressInfo).port;
    const env = setup();
    const { job, result } = await runHttpJob(env, { url: `http://127.0.0.1:${port}/slow` }, 1);
    expect(result).toMatchObject({ status: "timed_out", error: "timed out after 1 s" });
    await events.connected;
    await events.closed; // the test's timeout fails it if the socket stayed open
    expect((await env.store.getJob(job.id))!.lockedBy).toBeNull();
  });

  test("a 1 MiB answer: the output keeps the first 8 KiB and says how much was cut", async () => {
    const big = "a".repeat(1024 * 1024);
    const app = target({
      "/big": () => new Response(big),
      "/streamed": () => new Response(new ReadableStream({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode("b".repeat(64 * 1024)));
          if (++this.sent === 16) controller.close();
        },
        sent: 0,
      } as UnderlyingDefaultSource & { sent: number })),
    });
    const sized = await runDirect({ url: app.url("/big") });
    expect(sized.error).toBeUndefined();
    expect(sized.output).toBe(`${"a".repeat(8192)}… [${1024 * 1024 - 8192} bytes truncated]`);
    const streamed = await runDirect({ url: app.url("/streamed") });
    expect(streamed.output).toBe(`${"b".repeat(8192)}… [${1024 * 1024 - 8192} bytes truncated]`);
    const env = setup();
    expect((await runHttpJob(env, { url: app.url("/big") })).result.status).toBe("succeeded");
    expect((await env.store.listRuns({ limit: 1 })).items[0]!.output).toBe(sized.output);
  });

  test("a refused connection fails with a clear message", async () => {
    const port = freePort();
    const env = setup();
    const { result } = await runHttpJob(env, { url: `http://127.0.0.1:${port}/hook?token=secret` });
    expect(result.status).toBe("failed");
    expect(result.error).toStartWith(`POST http://127.0.0.1:${port}/hook: `);
    expect(result.error).toContain("ECONNREFUSED");
    expect(result.error).not.toContain("secret");
  });

  test("HTTP_JOB_ALLOW: another host fails the run without a request; listed hosts are called", async () => {
    const app = target({ "/hook": () => new Response("ok") });
    const refused = await runHttpJob(setup(["api.example.com", "*.internal"]), { url: app.url("/hook") });
    expect(refused.result).toMatchObject({ status: "failed", error: "host 127.0.0.1 is not allowed by HTTP_JOB_ALLOW (api.example.com, *.internal)" });
    expect(app.seen).toHaveLength(0);
    const allowed = await runHttpJob(setup(["api.example.com", "127.0.0.1"]), { url: app.url("/hook") });
    expect(allowed.result.status).toBe("succeeded");
    expect(app.seen).toHaveLength(1);
    expect((await runDirect({ url: "http://db.internal:1/x" }, ["*.internal"])).error).toStartWith("POST http://db.internal:1/x: ");
    expect((await runDirect({ url: "http://internal:1/x" }, ["*.internal"])).error).toStartWith("host internal is not allowed");
    // An entry with a port allows that port only.
    expect((await runDirect({ url: app.url("/hook") }, [`127.0.0.1:${new URL(app.url("/")).port}`])).error).toBeUndefined();
    expect((await runDirect({ url: "http://127.0.0.1:1/x" }, [`127.0.0.1:${new URL(app.url("/")).port}`])).error).toStartWith("host 127.0.0.1 is not allowed");
  });

  test("without a signing secret (none could be generated), every run fails saying why, and nothing is sent", async () => {
    const app = target({ "/hook": () => new Response("ok") });
    const why = "JOB_SIGNING_SECRET is not set and cannot be generated (…); set JOB_SIGNING_SECRET";
    const env = freshRunner({ abortGraceMs: 50 }, defaultRegistry([], { jobSigningSecret: new Error(why) }));
    const { result } = await runHttpJob(env, { url: app.url("/hook") });
    expect(result).toMatchObject({ status: "failed", error: why });
    expect(app.seen).toHaveLength(0);
  });

  test("a bad payload is refused at create with BAD_REQUEST naming the field", async () => {
    const { caller } = freshCaller([new HttpJob({ signingSecret: SECRET })]);
    const create = (payload: unknown) => caller.jobs.create({ name: "ping", jobType: "http", intervalMinutes: 5, payload: payload as never });
    await rejects(create({ url: "ftp://example.com/x" }), "BAD_REQUEST", "payload.url: must be an http:// or https:// URL");
    await rejects(create({ url: "not a url" }), "BAD_REQUEST", "payload.url");
    await rejects(create({}), "BAD_REQUEST", "payload.url");
    await rejects(create({ url: "https://example.com", method: "FETCH" }), "BAD_REQUEST", "payload.method: must be one of GET, POST, PUT, PATCH, DELETE");
    await rejects(create({ url: "https://example.com", method: "GET", body: "x" }), "BAD_REQUEST", "payload.body: a GET request has no body");
    await rejects(create({ url: "https://example.com", headers: { "X-Cronjobs-Job-Id": "1" } }), "BAD_REQUEST", "payload.headers");
    await rejects(create({ url: "https://example.com", headers: { "X-A": "a\r\nX-B: b" } }), "BAD_REQUEST", "payload.headers");
    await rejects(create({ url: "https://example.com", timeout: 5 }), "BAD_REQUEST", "payload");
    expect((await caller.jobs.list({})).items).toHaveLength(0);
    const job = await create({ url: "https://example.com/hook", method: "PATCH", headers: { "X-Team": "ops" }, body: { a: 1 } });
    expect(job.payload).toEqual({ url: "https://example.com/hook", method: "PATCH", headers: { "X-Team": "ops" }, body: { a: 1 } });
    const types = await caller.jobTypes.list();
    expect(types.find((t) => t.type === "http")?.payloadSchema).toMatchObject({ required: ["url"] });
  });
});

describe("app jobs with the http type", () => {
  const root = path.resolve(import.meta.dir, "../..");
  const cli = async (args: string[], env: Record<string, string>) => {
    const child = Bun.spawn([process.execPath, path.join(root, "src/cli/index.ts"), "jobs", ...args], {
      cwd: tempDir(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  };

  test("`app jobs add ping-app --every 5 --type http --payload '{\"url\":…}'` creates it; a bad URL is refused naming the field", async () => {
    const env = freshDeps([new HttpJob({ signingSecret: SECRET })]);
    const server = buildApp({ ...env.deps }).listen({ hostname: "127.0.0.1", port: 0 });
    onCleanup(async () => { await server.stop(true); });
    const conn = { APP_URL: `http://127.0.0.1:${server.server!.port}`, ADMIN_TOKEN };

    const added = await cli(["add", "ping-app", "--every", "5", "--type", "http", "--payload", '{"url":"https://example.com/cron/ping"}', "--json"], conn);
    expect(added).toMatchObject({ code: 0, stderr: "" });
    const job = JSON.parse(added.stdout) as { id: number; jobType: string; intervalMinutes: number; payload: unknown };
    expect(job).toMatchObject({ jobType: "http", intervalMinutes: 5, payload: { url: "https://example.com/cron/ping" } });

    const bad = await cli(["add", "ping-ftp", "--every", "5", "--type", "http", "--payload", '{"url":"ftp://example.com/x"}'], conn);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("payload.url: must be an http:// or https:// URL");
    expect((await env.store.listJobs({ limit: 10 }, T0)).items.map((j) => j.name)).toEqual(["ping-app"]);

    const types = await cli(["types"], conn);
    expect(types.code).toBe(0);
    expect(types.stdout).toMatch(/^http\s+Calls a URL/m);
  });
});
