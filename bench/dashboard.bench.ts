/**
 * Dashboard (issue 7), measured in headless Chromium against the real server: bytes
 * transferred by the first load of `/` (compressed; every response, headers included), and
 * the time from pressing "Sign in" to the first page of the jobs view drawn, with 10,000 jobs
 * in the table (User Timing marks the page sets; median of several runs, each in a fresh
 * browser context).
 */
import { assembleRuntime } from "../src/runtime.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { systemClock } from "../src/clock.ts";
import { defaultRegistry } from "../src/jobs/registry.ts";
import { silentLogger } from "../src/logger.ts";
import { Runner } from "../src/runner/runner.ts";
import { buildApp } from "../src/server/app.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";

const CHROMIUM = "/usr/bin/chromium";
const JOBS = Number(process.env.BENCH_DASHBOARD_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 9);
const TOKEN = "bench-admin-token-0123456789abcdef";

if (!fs.existsSync(CHROMIUM)) {
  console.log(`skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-dashboard-"));
  const store = SqliteStore.open(path.join(dir, "app.db"));
  const now = Date.now();
  const insert = store.client.prepare("INSERT INTO cron_jobs (name, job_type, interval_minutes, cron, timezone, next_run_at, created_at, updated_at) VALUES (?, 'noop', ?, ?, ?, ?, ?, ?)");
  store.client.transaction(() => {
    for (let i = 0; i < JOBS; i++) {
      const cron = i % 3 === 0;
      insert.run(`job-${i}`, cron ? null : 5 + (i % 60), cron ? "0 3 * * *" : null, cron ? "Europe/Berlin" : null, now + 60_000 + i * 1000, now, now);
    }
  })();
  const registry = defaultRegistry();
  const runtime = assembleRuntime(store, registry, { clock: systemClock, logger: silentLogger });
  const app = buildApp({ ...runtime, freshnessDir: path.join(dir, "freshness"), secrets: { cronSecret: "bench-cron-secret-0123456789abcdef", adminToken: TOKEN } });
  app.listen({ port: 0, hostname: "127.0.0.1" });
  const url = `http://127.0.0.1:${app.server!.port}/`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    // 1. First load: every response of a cold load of `/`, as transferred.
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    const sizes = new Map<string, { url: string; encoding: string }>();
    let transferred = 0;
    cdp.on("Network.responseReceived", (e) => sizes.set(e.requestId, { url: e.response.url, encoding: String(Object.entries(e.response.headers).find(([k]) => k.toLowerCase() === "content-encoding")?.[1] ?? "none") }));
    cdp.on("Network.loadingFinished", (e) => { transferred += e.encodedDataLength; });
    await page.goto(url, { waitUntil: "networkidle" });
    await context.close();
    const encodings = [...new Set([...sizes.values()].map((s) => s.encoding))].join(", ");

    // 2. Sign-in to the first page of jobs drawn, in the page's own clock.
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(url);
      await p.fill("#token", TOKEN);
      await p.click("#signin-submit");
      await p.waitForSelector("tr[data-job-id]");
      samples.push(await p.evaluate(() => performance.measure("first-page", "cronjobs:sign-in", "cronjobs:jobs-first-page").duration));
      await ctx.close();
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)]!;
    console.log(`| measure | value | goal |\n|---|---|---|`);
    console.log(`| first load of / (${sizes.size} responses, ${encodings}), bytes transferred | ${(transferred / 1024).toFixed(1)} KB | ≤ 200 KB |`);
    console.log(`| sign-in → first jobs page drawn, ${JOBS.toLocaleString("en-US")} jobs (median of ${RUNS}; min–max) | ${median.toFixed(0)} ms (${samples[0]!.toFixed(0)}–${samples.at(-1)!.toFixed(0)} ms) | < 300 ms |`);
  } finally {
    await browser.close();
    await app.stop(true);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
