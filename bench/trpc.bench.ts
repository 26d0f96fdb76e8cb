/**
 * Control plane (issue 3): `jobs.create` through HTTP tRPC, one call per request (httpLink)
 * and batched (httpBatchLink), beside a bare Elysia route doing the same work (the same job
 * service: validation, insert, JSON row), in the same run, on one SQLite file each.
 * Goal: tRPC costs at most 2× the bare route.
 */
import { assembleRuntime } from "../src/runtime.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Elysia } from "elysia";
import { createClient } from "../src/client.ts";
import { systemClock } from "../src/clock.ts";
import { JobService } from "../src/jobs/job-service.ts";
import { jobView } from "../src/jobs/job-view.ts";
import { defaultRegistry } from "../src/jobs/registry.ts";
import { silentLogger } from "../src/logger.ts";
import { Runner } from "../src/runner/runner.ts";
import { buildApp } from "../src/server/app.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";

const SEQUENTIAL = Number(process.env.BENCH_TRPC_SEQUENTIAL ?? 1_000);
const CONCURRENT = Number(process.env.BENCH_TRPC_CONCURRENT ?? 4_000);
const IN_FLIGHT = 50;
const TOKEN = "bench-admin-token-0123456789";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-trpc-"));

function open(name: string) {
  const store = SqliteStore.open(path.join(dir, `${name}.db`));
  const registry = defaultRegistry();
  return assembleRuntime(store, registry, { clock: systemClock, logger: silentLogger });
}

// The tRPC server, as `app serve` builds it.
const trpcEnv = open("trpc");
const trpcApp = buildApp({
  ...trpcEnv, freshnessDir: dir,
  secrets: { cronSecret: "bench-cron-secret-0123456789", adminToken: TOKEN },
}).listen({ hostname: "127.0.0.1", port: 0 });

// The bare route: the same job service behind a plain Elysia POST.
const bareEnv = open("bare");
const bareJobs = bareEnv.jobs;
const bareApp = new Elysia()
  .post("/jobs", async ({ request }) => {
    if (request.headers.get("authorization") !== `Bearer ${TOKEN}`) return new Response(null, { status: 401 });
    return Response.json(jobView(await bareJobs.create(await request.json(), { name: "bench", role: "admin", client: "client" }), systemClock.now()));
  }, { parse: "none" })
  .listen({ hostname: "127.0.0.1", port: 0 });

const trpcUrl = `http://127.0.0.1:${trpcApp.server!.port}`;
const bareUrl = `http://127.0.0.1:${bareApp.server!.port}/jobs`;
const single = createClient({ url: trpcUrl, token: TOKEN, batch: false });
const batched = createClient({ url: trpcUrl, token: TOKEN, batch: true });
const runAt = new Date(systemClock.now() + 86_400_000).toISOString();
const input = (prefix: string, i: number) => ({ name: `${prefix}-${i}`, jobType: "noop", runAt });

async function bare(prefix: string, i: number): Promise<void> {
  const response = await fetch(bareUrl, {
    method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(input(prefix, i)),
  });
  if (!response.ok) throw new Error(`bare route answered ${response.status}`);
  await response.arrayBuffer();
}

/** Requests per second of `count` calls, `inFlight` at a time (each wave awaited as a whole). */
async function measure(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i += inFlight) {
    await Promise.all(Array.from({ length: Math.min(inFlight, count - i) }, (_, k) => call(i + k)));
  }
  return count / ((performance.now() - start) / 1000);
}

// Warm-up: JIT, prepared statements, connections.
await measure(300, 1, (i) => bare("warm", i));
await measure(300, 1, (i) => single.jobs.create.mutate(input("warm", i)));
await measure(300, IN_FLIGHT, (i) => batched.jobs.create.mutate(input("warm-b", i)));

/** Median requests/s of `a` and `b` over `rounds` alternating rounds (so drift hits both alike). */
async function compare(rounds: number, count: number, inFlight: number, a: (i: number, r: number) => Promise<unknown>, b: (i: number, r: number) => Promise<unknown>) {
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    as.push(await measure(count, inFlight, (i) => a(i, r)));
    bs.push(await measure(count, inFlight, (i) => b(i, r)));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [median(as), median(bs)] as const;
}

const ROUNDS = 5;
const rows: [string, number, number, number | null][] = [];
const [bareSeq, trpcSeq] = await compare(ROUNDS, SEQUENTIAL, 1,
  (i, r) => bare(`seq${r}`, i), (i, r) => single.jobs.create.mutate(input(`seq${r}`, i)));
rows.push(["bare Elysia route, sequential", SEQUENTIAL, bareSeq, null]);
rows.push(["tRPC httpLink, sequential", SEQUENTIAL, trpcSeq, bareSeq / trpcSeq]);
const [bareConc, trpcBatch] = await compare(ROUNDS, CONCURRENT, IN_FLIGHT,
  (i, r) => bare(`conc${r}`, i), (i, r) => batched.jobs.create.mutate(input(`batch${r}`, i)));
rows.push([`bare Elysia route, ${IN_FLIGHT} in flight`, CONCURRENT, bareConc, null]);
rows.push([`tRPC httpBatchLink, batches of ${IN_FLIGHT}`, CONCURRENT, trpcBatch, bareConc / trpcBatch]);

const created = (await trpcEnv.store.stats(systemClock.now())).jobs;
const expected = 600 + ROUNDS * (SEQUENTIAL + CONCURRENT);
if (created !== expected) throw new Error(`tRPC created ${created} jobs, expected ${expected}`);

console.log(`\nMedian of ${ROUNDS} alternating rounds; client and servers in one process.`);
console.log("\n| jobs.create over HTTP | requests per round | requests/s | cost vs bare route (goal ≤ 2×) |");
console.log("|---|---:|---:|---:|");
for (const [mode, count, rps, ratio] of rows) {
  console.log(`| ${mode} | ${count.toLocaleString("en-US")} | ${Math.round(rps).toLocaleString("en-US")} | ${ratio === null ? "baseline" : `${ratio.toFixed(2)}×`} |`);
}

await trpcApp.stop(true);
await bareApp.stop(true);
await trpcEnv.store.close();
await bareEnv.store.close();
fs.rmSync(dir, { recursive: true, force: true });
