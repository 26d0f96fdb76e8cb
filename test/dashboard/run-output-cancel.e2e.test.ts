/**
 * The dashboard's run history shows each run's output (opened on demand, as text, never as
 * markup), and a running job has a button that cancels its run after a confirmation.
 */
import { describe, expect, test } from "bun:test";
import { chromiumAvailable, newPage, seedRuns, signIn, startServer, sharedBrowser } from "./support.ts";

// One browser for this file (without Chromium the suite is skipped, counted, with the notice from support.ts).
const withBrowser = sharedBrowser();

describe.skipIf(!chromiumAvailable)("dashboard: run output and cancel", () => {
  test("a run's output opens below its row, escaped and whole; a run that said nothing shows a dash", withBrowser(async (browser) => {
    const server = startServer();
    const output = `fetched 3 feeds\n<img src=x onerror="window.__injected = 1"> &amp; <b>not bold</b>\n${"long line ".repeat(40)}`;
    const now = Date.now();
    seedRuns(server, [
      { jobId: 7, name: "feeds", status: "failed", finishedAt: now - 60_000, error: "HTTP 500: oops", output },
      { jobId: 8, name: "quiet", status: "cancelled", finishedAt: now - 30_000, error: "cancelled" },
    ]);
    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.click('.tabs a[data-view="runs"]');
    const feeds = page.locator('.runs-table tr[data-run-id]', { hasText: "feeds" });
    const quiet = page.locator('.runs-table tr[data-run-id]', { hasText: "quiet" });
    await feeds.waitFor();
    expect(await quiet.locator("td.col-output").textContent()).toBe("—");
    expect(await quiet.locator(".badge").textContent()).toBe("cancelled");
    expect(await page.locator('.runs-view select[aria-label="Status"] option[value="cancelled"]').count()).toBe(1);

    const toggle = feeds.locator('button[data-action="output"]');
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    expect(await feeds.locator(".output-size").textContent()).toBe("3 lines");
    expect(await page.locator("pre.run-output").count()).toBe(0);
    await toggle.click();
    const pre = page.locator("tr.run-output-row pre.run-output");
    await pre.waitFor();
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    expect(await pre.textContent()).toBe(output);
    expect(await pre.locator("img, b").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __injected?: number }).__injected)).toBeUndefined();
    // The output row sits right below its run.
    expect(await page.evaluate(() => document.querySelector("tr.run-output-row")?.previousElementSibling?.textContent?.includes("feeds"))).toBe(true);

    // Stays open while the list refreshes (a new run arrives above it), and closes again.
    seedRuns(server, [{ jobId: 9, name: "newer", status: "succeeded", finishedAt: Date.now() }]);
    await page.locator('.runs-table tr[data-run-id]', { hasText: "newer" }).waitFor();
    expect(await pre.isVisible()).toBe(true);
    expect(await pre.textContent()).toBe(output);
    await toggle.click();
    expect(await page.locator("pre.run-output").count()).toBe(0);
    expect(await toggle.textContent()).toBe("Show");
  }), 30_000);

  test("a running job's Cancel run asks first, then stops the run: recorded cancelled, the button gone", withBrowser(async (browser) => {
    const server = startServer();
    const job = await server.client.jobs.create.mutate({ name: "long-sync", jobType: "sleep", intervalMinutes: 60, payload: { ms: 600_000 } });
    const page = await newPage(browser);
    await signIn(page, server.url);
    const row = page.locator(`tr[data-job-id="${job.id}"]`);
    await row.waitFor();
    expect(await row.locator('button[data-action="cancel"]').count()).toBe(0);

    const running = server.client.jobs.runNow.mutate({ id: job.id });
    const cancel = row.locator('button[data-action="cancel"]');
    await cancel.waitFor({ timeout: 5000 });
    expect(await cancel.textContent()).toBe("Cancel run");

    // Dismissed: nothing happens.
    await cancel.click();
    await page.click('dialog >> text=Keep running');
    expect((await server.store.getJob(job.id))!.cancelRequestedAt).toBeNull();

    await cancel.click();
    expect(await page.textContent("dialog p")).toContain("waits for its next slot");
    await page.click('dialog button.danger');
    expect(await running).toMatchObject({ status: "cancelled", error: "cancelled" });
    await page.waitForSelector(".toast >> text=Cancelling");
    await page.waitForFunction((id) => document.querySelector(`tr[data-job-id="${id}"] td.col-state`)?.textContent === "active", job.id);
    expect(await row.locator('button[data-action="cancel"]').count()).toBe(0);
    const [run] = (await server.store.listRuns({ limit: 5, jobId: job.id })).items;
    expect(run).toMatchObject({ status: "cancelled", error: "cancelled" });
  }), 30_000);
});
