/**
 * A job's page in the dashboard (`#/runs?job=ID`, where its name links) lists its changes from
 * the audit log: who, when, what — as text, never as markup.
 */
import { describe, expect, test } from "bun:test";
import { chromiumAvailable, newPage, signIn, startServer, sharedBrowser } from "./support.ts";

// One browser for this file (without Chromium the suite is skipped, counted, with the notice from support.ts).
const withBrowser = sharedBrowser();

describe.skipIf(!chromiumAvailable)("dashboard: a job's changes", () => {
  test("the job's page lists its changes newest first, the dashboard's own as admin (dashboard); values stay text", withBrowser(async (browser) => {
    const server = startServer();
    const job = await server.client.jobs.create.mutate({ name: "nightly", jobType: "noop", cron: "0 3 * * *" });
    const other = await server.client.jobs.create.mutate({ name: "other", jobType: "noop", intervalMinutes: 5 });
    await server.client.jobs.update.mutate({ id: job.id, timeoutSeconds: 30 });
    const hostile = "<img src=x onerror=\"window.__injected = 1\"> <b>bold</b>";
    await server.store.recordChange({ jobId: job.id, action: "update", actor: `${hostile} (cli)`, before: { name: hostile }, after: { name: "fine" }, at: Date.now() });

    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.locator(`tr[data-job-id="${job.id}"] button[data-action="pause"]`).click();
    await page.waitForFunction((id) => document.querySelector(`tr[data-job-id="${id}"] td.col-state`)?.textContent === "paused", job.id);
    await page.locator(`tr[data-job-id="${job.id}"] a.job-name`).click();

    const changes = page.locator(".job-changes");
    await changes.locator('tr[data-action="pause"]').waitFor();
    expect(await changes.locator("h2").textContent()).toBe(`Changes to job #${job.id}`);
    const rows = changes.locator("tbody tr[data-change-id]");
    expect(await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.action))).toEqual(["pause", "update", "update", "create"]);
    const pause = rows.nth(0);
    expect(await pause.locator("td.col-by").textContent()).toBe("admin (dashboard)");
    expect(await pause.locator(".badge").textContent()).toBe("paused");
    expect(await pause.locator(".change-lines li").allTextContents()).toEqual(["isActive: true → false"]);
    expect(await pause.locator("time").getAttribute("title")).toContain("UTC");

    const hand = rows.nth(1);
    expect(await hand.locator("td.col-by").textContent()).toBe(`${hostile} (cli)`);
    expect(await hand.locator(".change-lines li").allTextContents()).toEqual([`name: ${JSON.stringify(hostile)} → "fine"`]);
    expect(await changes.locator("img, b").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __injected?: number }).__injected)).toBeUndefined();

    expect(await rows.nth(2).locator(".change-lines li").allTextContents()).toEqual(["timeoutSeconds: 60 → 30"]);
    expect(await rows.nth(2).locator("td.col-by").textContent()).toBe("admin (client)");
    expect(await rows.nth(3).locator(".change-lines li").textContent()).toContain('name: "nightly", jobType: "noop", cron: "0 3 * * *"');

    // Another job's page shows only its own; the runs view without a job shows none.
    await page.goto(`${server.url}/#/runs?job=${other.id}`);
    await changes.locator('tr[data-action="create"]').waitFor();
    expect(await rows.count()).toBe(1);
    await page.goto(`${server.url}/#/runs`);
    await page.locator(".runs-table").waitFor();
    expect(await changes.isHidden()).toBe(true);
  }), 30_000);
});
