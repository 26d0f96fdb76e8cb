/**
 * The dashboard's server side without a browser or a port: the page and its bundled files
 * (compressed, cached, no data in them), and the dashboard's procedures under the one `/trpc`
 * mount (token required, chart counted by the database, health read from the freshness folder).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "bun:test";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { cronJobRuns } from "../../db/schema/sqlite.ts";
import { bucketStartOf } from "../../src/reads/run-buckets.ts";
import { buildApp } from "../../src/server/app.ts";
import { dashboardFiles, pickEncoding } from "../../src/server/dashboard-assets.ts";
import type { RunStatus } from "../../src/store/store.ts";
import type { AppRouter } from "../../src/trpc/router.ts";
import { ADMIN_TOKEN, freshDeps } from "../trpc/support.ts";

const HOUR = 3_600_000;

function setup() {
  const env = freshDeps();
  // Half past: the runs a test writes just before "now" fall in the current hour.
  env.clock.advance(HOUR / 2);
  const app = buildApp(env.deps);
  const get = (url: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${url}`, { headers }));
  const client = (token?: string) => createTRPCClient<AppRouter>({
    links: [httpLink({
      url: "http://localhost/trpc",
      headers: token ? { authorization: `Bearer ${token}` } : {},
      fetch: (url, init) => app.handle(new Request(url, init as RequestInit)),
    })],
  });
  let n = 0;
  const addRuns = (runs: { status: RunStatus; finishedAt: number; jobId?: number }[]) => env.store.orm.insert(cronJobRuns).values(runs.map((r) => ({
    jobId: r.jobId ?? 1, name: `job-${r.jobId ?? 1}`, jobType: "noop", userId: null, scheduledFor: null, startedAt: new Date(r.finishedAt - 5),
    finishedAt: new Date(r.finishedAt), status: r.status, error: r.status === "succeeded" ? null : `error ${++n}`, attempt: 1, runId: "t", runner: "t/1",
  }))).run();
  return { ...env, app, get, client: (token?: string) => client(token).dashboard, addRuns };
}

describe("the page and its files", () => {
  test("GET / is the page: no data in it, strict headers, revalidated each load", async () => {
    const { get, store, clock } = setup();
    await store.insertJob({ name: "secret-job-name", jobType: "noop", userId: null, runAt: null, intervalMinutes: 5, cron: null, timezone: null, payload: null, timeoutSeconds: 60, maxAttempts: 5, isActive: true, nextRunAt: new Date(clock.now()) }, clock.now());
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toContain('id="signin-form"');
    expect(html).not.toContain("secret-job-name");
    expect(html).not.toContain(ADMIN_TOKEN);
    // Every file it refers to is served from the bundle; nothing comes from elsewhere.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => u.startsWith("/"));
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      expect(ref).toStartWith("/assets/");
      const asset = await get(ref);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    }
  });

  test("compressed as the browser accepts: brotli, else gzip, else none; 304 on a matching ETag", async () => {
    const { get } = setup();
    const js = dashboardFiles().find((f) => f.path.endsWith(".js"))!;
    const br = await get(js.path, { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("vary")).toBe("accept-encoding");
    const brBytes = new Uint8Array(await br.arrayBuffer());
    expect(brBytes.length).toBeLessThan(js.bytes / 2);
    const gz = await get(js.path, { "accept-encoding": "gzip" });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer())).length).toBe(js.bytes);
    const plain = await get(js.path);
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect((await plain.arrayBuffer()).byteLength).toBe(js.bytes);
    const again = await get(js.path, { "if-none-match": br.headers.get("etag")! });
    expect(again.status).toBe(304);
    expect((await get("/assets/nope.js")).status).toBe(404);
  });

  test("accept-encoding is read with its weights", () => {
    expect(pickEncoding("gzip, deflate, br, zstd")).toBe("br");
    expect(pickEncoding("br;q=0, gzip;q=0.8")).toBe("gzip");
    expect(pickEncoding("*")).toBe("br");
    expect(pickEncoding("identity")).toBe("identity");
    expect(pickEncoding(null)).toBe("identity");
  });
});

describe("the dashboard's procedures", () => {
  test("need the admin token", async () => {
    const { client } = setup();
    for (const call of [() => client().health.query(), () => client("wrong").runsOverview.query(), () => client("wrong").summary.query()]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCClientError);
      expect((err as TRPCClientError<AppRouter>).data?.code).toBe("UNAUTHORIZED");
    }
    expect((await client(ADMIN_TOKEN).summary.query()).jobs).toBe(0);
  });

  test("the chart counts runs per hour of the last day, by status, in one GROUP BY on each call", async () => {
    const { client, clock, addRuns } = setup();
    const now = clock.now();
    addRuns([
      { status: "succeeded", finishedAt: now - 10 }, { status: "failed", finishedAt: now - 20 },
      { status: "timed_out", finishedAt: now - 2 * HOUR }, { status: "succeeded", finishedAt: now - 25 * HOUR },
    ]);
    const api = client(ADMIN_TOKEN);
    const first = await api.runsOverview.query();
    expect(first.chart.buckets).toHaveLength(24);
    expect(first.chart.buckets.at(-1)).toEqual({ start: bucketStartOf(now, HOUR), succeeded: 1, failed: 1, timedOut: 0, cancelled: 0, skipped: 0 });
    expect(first.chart.buckets.at(-3)).toMatchObject({ succeeded: 0, failed: 0, timedOut: 1 });
    addRuns([{ status: "succeeded", finishedAt: now }, { status: "succeeded", finishedAt: now - 1 }]);
    const second = await api.runsOverview.query();
    expect(second.chart.buckets.at(-1)).toMatchObject({ succeeded: 3, failed: 1 });
    const total = second.chart.buckets.reduce((n, b) => n + b.succeeded + b.failed + b.timedOut, 0);
    expect(total).toBe(5);
    // Each job's last runs, oldest first (in the order they were recorded).
    expect(second.strips.map((s) => [s.jobId, s.runs.map((r) => r.status)])).toEqual([[1, ["succeeded", "failed", "timed_out", "succeeded", "succeeded", "succeeded"]]]);
  });

  test("a run pruned or recorded out of order is counted right at the next call; cancelled and skipped runs have their own counts", async () => {
    const { client, store, clock, addRuns } = setup();
    const now = clock.now();
    addRuns(Array.from({ length: 30 }, (_, i) => ({ status: "succeeded" as const, finishedAt: now - i * 1000 })));
    const api = client(ADMIN_TOKEN);
    expect((await api.runsOverview.query()).chart.buckets.at(-1)!.succeeded).toBe(30);
    store.client.run("DELETE FROM cron_job_runs WHERE id = 5");
    addRuns([{ status: "cancelled", finishedAt: now - 2 * HOUR }, { status: "skipped", finishedAt: now - 2 * HOUR }]);
    const chart = (await api.runsOverview.query()).chart;
    expect(chart.buckets.at(-1)!.succeeded).toBe(29);
    expect(chart.buckets.at(-3)).toMatchObject({ cancelled: 1, skipped: 1 });
  });

  test("health: the freshness sources, the figures of /metrics, the tests page when it exists", async () => {
    const { client, deps, clock } = setup();
    const api = client(ADMIN_TOKEN);
    let health = await api.health.query();
    expect(health.database).toBe("ok");
    expect(health.checks.map((c) => c.name)).toEqual(["cron_runner", "tests", "overdue_jobs", "dead_jobs", "failing_jobs"]);
    // Nothing reported yet: unknown, never fresh.
    expect(health.checks.filter((c) => c.name === "cron_runner" || c.name === "tests").map((c) => c.status)).toEqual(["unknown", "unknown"]);
    expect(health.testsPage).toBe(false);
    expect(await api.testsPage.query().catch((e: TRPCClientError<AppRouter>) => e.data?.code)).toBe("NOT_FOUND");

    const old = new Date(clock.now() - 3600_000).toISOString();
    fs.writeFileSync(path.join(deps.freshnessDir, "cron_runner.json"), JSON.stringify({
      version: 1, time: old, outcome: "ok", exitCode: 0, url: "http://x", durationMs: 5, lastOkAt: old, tick: null, error: null,
    }));
    fs.writeFileSync(path.join(deps.freshnessDir, "all_tests_cronjob_fresh.html"), "<!doctype html><title>Tests passed</title>");
    health = await api.health.query();
    const runner = health.checks.find((c) => c.name === "cron_runner")!;
    expect(runner).toMatchObject({ status: "stale", ageSeconds: 3600, maxAgeSeconds: 300 });
    expect(health.testsPage).toBe(true);
    expect((await api.testsPage.query()).html).toContain("Tests passed");

    fs.writeFileSync(path.join(deps.freshnessDir, "cron_runner.json"), "{ not json");
    health = await api.health.query();
    expect(health.checksError).toContain("cron_runner.json");
    expect(health.stats?.jobs).toBe(0);
  });
});
