/**
 * End-to-end support for the dashboard: a real server on an ephemeral port over a fresh SQLite
 * database (real clock, a real Runner), headless Chromium driven by playwright-core, history
 * rows written straight into the table, and a check that a screenshot is not blank.
 */
import { afterAll, beforeAll } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { cronJobRuns } from "../../db/schema/sqlite.ts";
import { createClient } from "../../src/client.ts";
import { HttpJob } from "../../src/jobs/http-job.ts";
import { systemClock } from "../../src/clock.ts";
import { buildApp } from "../../src/server/app.ts";
import type { RunStatus } from "../../src/store/store.ts";
import { freshStore, onCleanup, tempDir } from "../support/db.ts";
import { testRegistry } from "../support/jobs.ts";
import { testRuntime } from "../support/runtime.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const ADMIN_TOKEN = "dashboard-admin-token-0123456789";

/** The real app listening on 127.0.0.1 at a free port; stopped and removed after the test. */
export function startServer() {
  const { store } = freshStore();
  const freshnessDir = tempDir("cronjobs-freshness-");
  const registry = testRegistry(new HttpJob({ signingSecret: "dashboard-signing-secret-0123456789" }));
  const runtime = testRuntime(store, { clock: systemClock, registry, runner: { runnerName: "dashboard-test/1" } });
  const { runner } = runtime;
  const app = buildApp({ ...runtime, freshnessDir, secrets: { cronSecret: "dashboard-cron-secret-0123456789", adminToken: ADMIN_TOKEN } });
  app.listen({ port: 0, hostname: "127.0.0.1" });
  const url = `http://127.0.0.1:${app.server!.port}`;
  onCleanup(async () => {
    await app.stop(true);
    await runner.shutdown(100);
  });
  return { url, store, runner, freshnessDir, client: createClient({ url, token: ADMIN_TOKEN }) };
}

export type Server = ReturnType<typeof startServer>;

/**
 * Whether the browser suite runs: on a machine without Chromium it is skipped with a notice;
 * in CI (`CI` set; `.ci/run` installs it) it always runs, so a missing browser fails loudly.
 */
export const chromiumAvailable = fs.existsSync(CHROMIUM) || ["true", "1"].includes(process.env.CI ?? "");
if (!chromiumAvailable) console.warn(`\n*** dashboard browser tests SKIPPED (counted as skipped): ${CHROMIUM} is missing (apt-get install chromium) ***\n`);

/** Headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/** A new tab in a fresh context (its own session storage), times in UTC, English. */
/**
 * One browser for the calling test file: launched before its tests (when Chromium is there),
 * closed after them. The answer wraps a test body and hands it the browser.
 */
export function sharedBrowser() {
  let browser: Browser | undefined;
  beforeAll(async () => { if (chromiumAvailable) browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });
  return (fn: (browser: Browser) => Promise<void>) => async () => {
    if (!browser) throw new Error("Chromium is installed but did not start");
    await fn(browser);
  };
}

export async function newPage(browser: Browser, options: { width?: number; height?: number; colorScheme?: "light" | "dark" } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    locale: "en-US", timezoneId: "UTC", colorScheme: options.colorScheme ?? "light",
  });
  onCleanup(() => context.close().catch(() => {}));
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  return page;
}

export async function signIn(page: Page, url: string, token = ADMIN_TOKEN): Promise<void> {
  await page.goto(url);
  await page.fill("#token", token);
  await page.click("#signin-submit");
}

export interface SeedRun {
  jobId: number;
  name: string;
  status: RunStatus;
  finishedAt: number;
  durationMs?: number;
  error?: string | null;
  output?: string | null;
}

/** Writes history rows as if they had run. */
export function seedRuns(server: Server, runs: SeedRun[]): void {
  if (runs.length === 0) return;
  server.store.orm.insert(cronJobRuns).values(runs.map((r) => ({
    jobId: r.jobId, name: r.name, jobType: "noop", userId: null, scheduledFor: null,
    startedAt: new Date(r.finishedAt - (r.durationMs ?? 20)), finishedAt: new Date(r.finishedAt),
    status: r.status, error: r.error ?? (r.status === "succeeded" ? null : "boom"), output: r.output ?? null, attempt: 1, runId: "seed", runner: "seed/1",
  }))).run();
}

/**
 * Saves a screenshot of the page (or of one element) under `dir` and answers how varied it
 * is: a blank page has one colour and no spread.
 */
export async function screenshot(page: Page, dir: string, name: string, element?: Locator): Promise<{ file: string; bytes: number; colours: number; spread: number }> {
  const file = path.join(dir, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  const png = element ? await element.screenshot({ path: file }) : await page.screenshot({ path: file, fullPage: true });
  if (process.env.DASHBOARD_SCREENSHOTS) fs.copyFileSync(file, path.join(process.env.DASHBOARD_SCREENSHOTS, `${name}.png`));
  // Decode it in a blank tab of the same browser: distinct colours and the spread of luminance.
  const probe = await page.context().newPage();
  try {
    const stats = await probe.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, img.width, img.height);
      const colours = new Set<number>();
      let sum = 0;
      let sumSq = 0;
      const n = data.length / 4;
      for (let i = 0; i < data.length; i += 4) {
        colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        const y = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
        sum += y;
        sumSq += y * y;
      }
      return { colours: colours.size, spread: Math.sqrt(sumSq / n - (sum / n) ** 2) };
    }, png.toString("base64"));
    return { file, bytes: png.length, ...stats };
  } finally {
    await probe.close();
  }
}
