/**
 * The dashboard's schedule policies and pause all (SPEC §5.3.1): the job form's policy fields
 * saved and refused by name, and the pause-all switch, confirmed first, held in the database.
 */
import { describe, expect, test } from "bun:test";
import { chromiumAvailable, newPage, signIn, startServer, sharedBrowser } from "./support.ts";

// One browser for this file (without Chromium the suite is skipped, counted, with the notice from support.ts).
const withBrowser = sharedBrowser();

describe.skipIf(!chromiumAvailable)("dashboard: schedule policies and pause all", () => {
  test("the job form saves catch-up, start deadline, jitter, end and max runs; jitter past the interval is named next to its field", withBrowser(async (browser) => {
    const server = startServer();
    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.click("text=New job");
    await page.fill("#job-form-name", "policed");
    await page.selectOption("#job-form-jobType", "noop");
    await page.fill("#job-form-intervalMinutes", "10");
    await page.click("details.policies > summary");
    await page.selectOption("#job-form-catchUp", "all");
    await page.fill("#job-form-startDeadlineSeconds", "90");
    await page.fill("#job-form-jitterSeconds", "601");
    await page.fill("#job-form-endsAt", "2031-01-01T00:00");
    await page.fill("#job-form-maxRuns", "3");
    await page.click("text=Create job");
    const error = page.locator('[data-error-for="jitterSeconds"]');
    await error.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-error-for="jitterSeconds"]')!.textContent !== "");
    expect(await error.textContent()).toContain("must not be longer than the interval (600 s)");
    expect(await server.store.findJob("policed", null)).toBeUndefined();

    await page.fill("#job-form-jitterSeconds", "30");
    await page.click("text=Create job");
    await page.waitForSelector(".toast >> text=Created");
    expect(await server.store.findJob("policed", null)).toMatchObject({
      catchUp: "all", startDeadlineSeconds: 90, jitterSeconds: 30, endsAt: new Date("2031-01-01T00:00:00Z"), maxRuns: 3,
    });

    // Editing shows them, opened; clearing a field clears it.
    const job = (await server.store.findJob("policed", null))!;
    await page.locator(`tr[data-job-id="${job.id}"] button[data-action="edit"]`).click();
    expect(await page.getAttribute("details.policies", "open")).not.toBeNull();
    expect(await page.inputValue("#job-form-maxRuns")).toBe("3");
    await page.fill("#job-form-maxRuns", "");
    await page.click("text=Save changes");
    await page.waitForSelector(".toast >> text=Saved");
    expect((await server.store.getJob(job.id))!.maxRuns).toBeNull();
  }), 30_000);

  test("pause all: the switch asks first, holds every job, shows a banner; resume all leaves jobs paused one by one paused", withBrowser(async (browser) => {
    const server = startServer();
    const solo = await server.client.jobs.create.mutate({ name: "solo", jobType: "noop", intervalMinutes: 5 });
    await server.client.jobs.pause.mutate({ id: solo.id });
    const page = await newPage(browser);
    await signIn(page, server.url);
    const toggle = page.locator("button[data-pause-all]");
    await page.waitForFunction(() => document.querySelector("button[data-pause-all]")?.getAttribute("aria-checked") === "false");
    expect(await page.isVisible(".banner.warning")).toBe(false);

    await toggle.click();
    await page.click("dialog >> text=Keep running");
    expect(await server.client.jobs.pausedAll.query()).toEqual({ paused: false });

    await toggle.click();
    expect(await page.textContent("dialog p")).toContain("No server starts any job");
    await page.click("dialog button.danger");
    await page.waitForFunction(() => document.querySelector("button[data-pause-all]")?.getAttribute("aria-checked") === "true");
    expect(await page.isVisible(".banner.warning")).toBe(true);
    expect(await server.client.jobs.pausedAll.query()).toEqual({ paused: true });
    expect((await server.runner.runDueJobs()).paused).toBe(true);

    // Another tab sees it: it is in the database, not in this page.
    const other = await newPage(browser);
    await signIn(other, server.url);
    await other.waitForFunction(() => document.querySelector("button[data-pause-all]")?.getAttribute("aria-checked") === "true");

    await toggle.click();
    await page.click("dialog button.danger");
    await page.waitForFunction(() => document.querySelector("button[data-pause-all]")?.getAttribute("aria-checked") === "false");
    expect(await server.client.jobs.pausedAll.query()).toEqual({ paused: false });
    expect((await server.store.getJob(solo.id))!.isActive).toBe(false);
  }), 30_000);
});
