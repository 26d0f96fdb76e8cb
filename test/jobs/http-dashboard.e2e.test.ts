/** The dashboard's job form for `http` jobs, in headless Chromium against a real server. */
import { describe, expect, test } from "bun:test";
import { chromiumAvailable, newPage, sharedBrowser, signIn, startServer } from "../dashboard/support.ts";

const withBrowser = sharedBrowser();

describe.skipIf(!chromiumAvailable)("dashboard: an http job", () => {
  test("choosing the http type shows a URL and a method that build the payload; a bad URL is shown next to its field", withBrowser(async (browser) => {
    const server = startServer();
    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.click("text=New job");
    expect(await page.isVisible("#job-form-httpUrl")).toBe(false);
    await page.fill("#job-form-name", "ping-app");
    await page.selectOption("#job-form-jobType", "http");
    expect(await page.isVisible("#job-form-httpUrl")).toBe(true);
    await page.check('input[name="kind"][value="interval"]', { force: true });
    await page.fill("#job-form-intervalMinutes", "5");

    await page.fill("#job-form-httpUrl", "ftp://example.com/x");
    await page.click('.job-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('[data-error-for="httpUrl"]')?.textContent !== "");
    expect(await page.textContent('.field-httpUrl [data-error-for="httpUrl"]')).toBe("must be an http:// or https:// URL");
    expect(await page.getAttribute("#job-form-httpUrl", "aria-invalid")).toBe("true");
    expect((await server.store.listJobs({ limit: 10 }, Date.now())).items).toHaveLength(0);

    await page.fill("#job-form-httpUrl", "https://app.example.com/cron/ping");
    await page.selectOption("#job-form-httpMethod", "PUT");
    await page.fill("#job-form-payload", '{ "headers": { "X-Team": "ops" } }');
    await page.click('.job-form button[type="submit"]');
    await page.waitForSelector(".job-form", { state: "detached" });
    const [job] = (await server.store.listJobs({ limit: 10 }, Date.now())).items;
    expect(job).toMatchObject({ name: "ping-app", jobType: "http", intervalMinutes: 5 });
    expect(JSON.parse(job!.payload!)).toEqual({ headers: { "X-Team": "ops" }, url: "https://app.example.com/cron/ping", method: "PUT" });

    // Editing shows the URL and method in their fields and only the rest as JSON.
    await page.click(`tr[data-job-id="${job!.id}"] [data-action="edit"]`);
    expect(await page.inputValue("#job-form-httpUrl")).toBe("https://app.example.com/cron/ping");
    expect(await page.inputValue("#job-form-httpMethod")).toBe("PUT");
    expect(JSON.parse(await page.inputValue("#job-form-payload"))).toEqual({ headers: { "X-Team": "ops" } });
  }), 30_000);
});
