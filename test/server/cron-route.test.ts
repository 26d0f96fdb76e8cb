import { describe, expect, test } from "bun:test";
import { backends, describeOn } from "../support/backends.ts";
import { freshStore, onCleanup, T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { cronRequest, SECRETS, testApp } from "../support/server.ts";

const past = new Date(T0 - 1000);

for (const backend of backends) {
  describeOn(backend, `POST /api/cron/run on ${backend.name}`, () => {
    const setup = async () => {
      const { store } = await backend.open();
      return { store, ...testApp(store) };
    };

    test("runs due jobs and answers the tick", async () => {
      const { app, store } = await setup();
      const job = await addJob(store, T0, { name: "due", runAt: past });
      const res = await app.handle(cronRequest());
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(Object.keys(body).sort()).toEqual(["claimed", "durationMs", "failed", "finishedAt", "paused", "results", "runId", "startedAt", "succeeded", "timedOut", "truncated"]);
      expect(body).toMatchObject({ claimed: 1, succeeded: 1, failed: 0, timedOut: 0, truncated: false });
      expect(body.results).toEqual([{ id: job.id, name: "due", jobType: "noop", userId: null, status: "succeeded", durationMs: 0 }]);
      expect(await store.getJob(job.id)).toBeUndefined();
    });

    test("limit and dryRun", async () => {
      const { app, store } = await setup();
      for (let i = 0; i < 3; i++) await addJob(store, T0, { name: `j${i}`, runAt: past });
      const dry = await (await app.handle(cronRequest({ body: JSON.stringify({ dryRun: true }), headers: { "content-type": "application/json" } }))).json();
      expect(dry.results).toHaveLength(3);
      expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(3);
      const one = await (await app.handle(cronRequest({ body: JSON.stringify({ limit: 1 }) }))).json();
      expect(one.claimed).toBe(1);
      expect((await store.listJobs({ limit: 10 }, T0)).items).toHaveLength(2);
    });

    const unauthorized: [string, Parameters<typeof cronRequest>[0]][] = [
      ["no Authorization header", { headers: { authorization: "" } }],
      ["a wrong secret", { headers: { authorization: "Bearer wrong-secret-wrong-secret" } }],
      ["another scheme", { headers: { authorization: `Basic ${btoa(`x:${SECRETS.cronSecret}`)}` } }],
      ["the bearer keyword alone", { headers: { authorization: "Bearer " } }],
      ["the admin token", { headers: { authorization: `Bearer ${SECRETS.adminToken}` } }],
      ["the secret in the query string", { headers: { authorization: "" }, query: `?secret=${SECRETS.cronSecret}` }],
      ["the secret in the query string beside a good header", { query: `?token=${SECRETS.cronSecret}` }],
    ];
    test.each(unauthorized)("401 and nothing runs: %s", async (_, init) => {
      const { app, store } = await setup();
      const job = await addJob(store, T0, { name: "guarded", runAt: past });
      const res = await app.handle(cronRequest(init));
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("UNAUTHORIZED");
      expect(await store.getJob(job.id)).toMatchObject({ attempts: 0, lockedBy: null });
      expect((await store.listRuns({ limit: 5 })).items).toHaveLength(0);
    });

    test.each([
      ["malformed JSON", "{limit:", "body: malformed JSON"],
      ["limit of the wrong type", JSON.stringify({ limit: "ten" }), "limit"],
      ["limit 0", JSON.stringify({ limit: 0 }), "limit"],
      ["limit above 100000", JSON.stringify({ limit: 100_001 }), "limit"],
      ["fractional limit", JSON.stringify({ limit: 1.5 }), "limit"],
      ["dryRun not a boolean", JSON.stringify({ dryRun: "yes" }), "dryRun"],
      ["an unknown field", JSON.stringify({ limt: 5 }), "limt"],
      ["an array", "[1,2]", "body"],
    ])("400 naming the field: %s", async (_, body, field) => {
      const { app, store } = await setup();
      const job = await addJob(store, T0, { name: "untouched", runAt: past });
      const res = await app.handle(cronRequest({ body }));
      expect(res.status).toBe(400);
      const answer = await res.json();
      expect(answer.error.message).toContain(field);
      expect(JSON.stringify(answer)).not.toContain("    at ");
      expect(await store.getJob(job.id)).toMatchObject({ attempts: 0 });
    });

    test("a 70 KiB body is refused with 413", async () => {
      const { app, store } = await setup();
      await addJob(store, T0, { name: "untouched", runAt: past });
      const res = await app.handle(cronRequest({ body: JSON.stringify({ limit: 1, pad: "x".repeat(70 * 1024) }) }));
      expect(res.status).toBe(413);
      expect((await store.listRuns({ limit: 5 })).items).toHaveLength(0);
    });

    test.each(["GET", "PUT", "DELETE", "PATCH"])("%s is 405 with Allow: POST", async (method) => {
      const { app } = await setup();
      const res = await app.handle(cronRequest({ method }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    });

    test("GET /healthz and /metrics", async () => {
      const { app, store } = await setup();
      await addJob(store, T0, { name: "due", runAt: past });
      expect(await (await app.handle(new Request("http://localhost/healthz"))).json()).toMatchObject({ ok: true, db: "ok" });
      let text = await (await app.handle(new Request("http://localhost/metrics"))).text();
      expect(text).toContain("cronjobs_jobs_due 1\n");
      await app.handle(cronRequest());
      text = await (await app.handle(new Request("http://localhost/metrics"))).text();
      expect(text).toContain("cronjobs_jobs_due 0\n");
      expect(text).toContain('cronjobs_runs_total{status="succeeded"} 1\n');
      expect(text).toContain("# TYPE cronjobs_runs_total counter");
      expect(text).toMatch(/cronjobs_last_tick_timestamp_seconds \d+/);
    });

    test("pause all: the tick answers paused and claims nothing; /healthz and /metrics show it", async () => {
      const { app, store } = await setup();
      const job = await addJob(store, T0, { name: "due", runAt: past });
      const trpc = (procedure: string) => app.handle(new Request(`http://localhost/trpc/jobs.${procedure}`, {
        method: "POST", headers: { authorization: `Bearer ${SECRETS.adminToken}`, "content-type": "application/json" }, body: "{}",
      }));
      const health = async () => (await (await app.handle(new Request("http://localhost/healthz"))).json()).paused;
      const metrics = async () => (await (await app.handle(new Request("http://localhost/metrics"))).text()).match(/^cronjobs_paused (\d)$/m)?.[1];
      expect([await health(), await metrics()]).toEqual([false, "0"]);
      expect((await trpc("pauseAll")).status).toBe(200);
      expect([await health(), await metrics()]).toEqual([true, "1"]);
      const paused = await (await app.handle(cronRequest())).json();
      expect(paused).toMatchObject({ claimed: 0, paused: true, results: [] });
      expect(await store.getJob(job.id)).toBeDefined();
      expect((await trpc("resumeAll")).status).toBe(200);
      expect([await health(), await metrics()]).toEqual([false, "0"]);
      expect(await (await app.handle(cronRequest())).json()).toMatchObject({ claimed: 1, paused: false });
    });

    test("an unknown route is a JSON 404", async () => {
      const { app } = await setup();
      const res = await app.handle(new Request("http://localhost/nope"));
      expect(res.status).toBe(404);
    });
  });
}

describe("POST /api/cron/run when the database is unavailable (SQLite)", () => {
  test("write-locked by another process past the busy timeout: 503, nothing claimed, next tick fine", async () => {
    const { store, file } = freshStore({ busyTimeoutMs: 200 });
    const { app } = testApp(store);
    const job = await addJob(store, T0, { name: "waiting", runAt: past });
    const locker = Bun.spawn([process.execPath, "-e", `
      const { Database } = require("bun:sqlite");
      const db = new Database(${JSON.stringify(file)});
      db.run("BEGIN IMMEDIATE");
      console.log("locked");
      await Bun.sleep(1500);
      db.run("COMMIT");
    `], { stdout: "pipe" });
    onCleanup(() => { locker.kill("SIGKILL"); });
    const reader = locker.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("locked");
    const res = await app.handle(cronRequest());
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error.message).toContain("locked");
    expect(JSON.stringify(body)).not.toContain("    at ");
    await locker.exited;
    expect(await store.getJob(job.id)).toMatchObject({ attempts: 0, lockedBy: null });
    const retry = await app.handle(cronRequest());
    expect(retry.status).toBe(200);
    expect((await retry.json()).succeeded).toBe(1);
  });
});
