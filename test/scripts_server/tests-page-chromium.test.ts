import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { shellQuote, writeFileAtomic } from "../../src/watchdog/files.ts";
import { renderTestsPage } from "../../src/watchdog/tests-page.ts";
import type { TestsReport } from "../../src/watchdog/tests-report.ts";
import { tempDir } from "../support/db.ts";
import { ADMIN_TOKEN as DASHBOARD_TOKEN, startServer } from "../dashboard/support.ts";
import { BUN, readJson, runCli } from "./support.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.log(`[chromium check skipped] ${CHROMIUM} is missing — install the Debian package \`chromium\` (CI does)`);

const SUITE = `import { test, expect } from "bun:test";
test("works", () => { expect(1).toBe(1); });
test("<script>alert(1)</script> <img src=x onerror=alert(2)>", () => { expect("</pre><h1>x</h1>").toBe("ok"); });
`;

describe.skipIf(!haveChromium)("the tests page in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens `file` on a phone-sized screen; answers the page and what it tried to do. */
  async function open(file: string) {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const requests: string[] = [];
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("dialog", (d) => { dialogs.push(d.message()); void d.dismiss(); });
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(pathToFileURL(file).href);
    return { page, requests, dialogs, errors, close: () => context.close() };
  }

  test("a failing run: the status, counts and the failing test's name read from the rendered page", async () => {
    const dir = tempDir("cronjobs-suite-");
    fs.writeFileSync(path.join(dir, "fixture.test.ts"), SUITE);
    const out = tempDir();
    const cmd = `${shellQuote(BUN)} test ./fixture.test.ts --reporter=junit --reporter-outfile={junit}`;
    expect((await runCli(["tests-cronjob-runner", "--freshness-dir", out, "--dir", dir, "--cmd", cmd])).code).toBe(1);

    const { page, requests, dialogs, errors, close } = await open(path.join(out, "all_tests_cronjob_fresh.html"));
    try {
      expect(await page.locator("#status").innerText()).toBe("failed");
      expect(await page.locator("#counts").innerText()).toContain("1 passed, 1 failed");
      expect(await page.locator("#failures li strong").innerText()).toBe("<script>alert(1)</script> <img src=x onerror=alert(2)>");
      expect(await page.locator("#failures pre").innerText()).toContain("</pre><h1>x</h1>");
      expect(await page.locator("h1").count()).toBe(1);
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.locator("#stale").isVisible()).toBe(false);
      // Readable on a phone: nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      expect(await page.evaluate(() => getComputedStyle(document.body).fontSize)).toBe("16px");
      await page.waitForTimeout(100);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]); // the CSP lets the page's own script run and nothing else
      expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
      expect(requests).toHaveLength(1);
    } finally {
      await close();
    }
    expect(readJson(path.join(out, "all_tests_cronjob_fresh.json")).status).toBe("failed");
  }, 30_000);

  test("read after its stale-after time, the page says it is stale", async () => {
    const finished = Date.now() - 2 * 3_600_000;
    const run = { status: "passed" as const, startedAt: new Date(finished - 5_000).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: 5_000, counts: { tests: 4, passed: 4, failed: 0, skipped: 0 } };
    const report: TestsReport = {
      version: 1, ...run, reason: "all 4 tests passed", command: "bun test", cwd: "/srv/app", host: "web-1", exitCode: 0, signal: null,
      countsFrom: "junit", failures: [], moreFailures: 0, staleAfter: new Date(finished + 3_600_000).toISOString(), staleAfterSeconds: 3_600,
      output: "", history: [run],
    };
    const file = path.join(tempDir(), "all_tests_cronjob_fresh.html");
    writeFileAtomic(file, renderTestsPage(report));
    const { page, close } = await open(file);
    try {
      expect(await page.locator("#status").innerText()).toBe("passed");
      expect(await page.locator("#stale").isVisible()).toBe(true);
      expect(await page.locator("#stale").innerText()).toContain("Stale");
      expect(await page.locator("#history tbody tr").count()).toBe(1);
    } finally {
      await close();
    }
  }, 30_000);

  test("opened from the dashboard (Health → Open the tests status page): its own route and CSP, stale marker shown, still there after a reload (its meta refresh)", async () => {
    const server = startServer();
    const finished = Date.now() - 2 * 3_600_000;
    const run = { status: "passed" as const, startedAt: new Date(finished - 5_000).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: 5_000, counts: { tests: 4, passed: 4, failed: 0, skipped: 0 } };
    writeFileAtomic(path.join(server.freshnessDir, "all_tests_cronjob_fresh.html"), renderTestsPage({
      version: 1, ...run, reason: "all 4 tests passed", command: "bun test", cwd: "/srv/app", host: "web-1", exitCode: 0, signal: null,
      countsFrom: "junit", failures: [], moreFailures: 0, staleAfter: new Date(finished + 3_600_000).toISOString(), staleAfterSeconds: 3_600,
      output: "", history: [run],
    }));
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    try {
      const dashboard = await context.newPage();
      await dashboard.goto(server.url);
      await dashboard.fill("#token", DASHBOARD_TOKEN);
      await dashboard.click("#signin-submit");
      await dashboard.waitForSelector("#app:not([hidden])");
      await dashboard.goto(`${server.url}/#/health`);
      const button = dashboard.getByRole("button", { name: /Open the tests status page/ });
      await button.waitFor({ state: "visible" });
      const [popup] = await Promise.all([context.waitForEvent("page"), button.click()]);
      const errors: string[] = [];
      // The browser's own favicon request is no error of the page's.
      popup.on("console", (m) => { if (m.type() === "error" && !`${m.text()} ${m.location().url}`.includes("favicon")) errors.push(m.text()); });
      popup.on("pageerror", (e) => errors.push(e.message));
      await popup.waitForURL(`${server.url}/tests-page`);
      await popup.waitForLoadState("load");
      for (let load = 0; load < 2; load++) {
        expect(await popup.locator("#status").innerText()).toBe("passed");
        expect(await popup.locator("#stale").isVisible()).toBe(true); // the page's own script ran under its own CSP
        if (load === 0) await popup.reload(); // what its meta refresh does every 60 s: the cookie still lets it in
      }
      expect(errors).toEqual([]);
      expect(popup.url()).not.toContain(DASHBOARD_TOKEN);
      expect(await popup.evaluate(() => window.opener)).toBeNull();
    } finally {
      await context.close();
    }
  }, 30_000);
});
