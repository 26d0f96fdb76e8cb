/**
 * The dashboard in headless Chromium against a real server (issue 7): sign-in, jobs with their
 * schedules in words, pause, run now, an invalid create, the 24-hour chart, a phone-sized
 * screen, and screenshots of each view that must not be blank.
 */
import { describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { DAY_OF_HOURS, bucketRuns, windowStart } from "../../src/reads/run-buckets.ts";
import { fieldErrors } from "../../src/dashboard/field-errors.ts";
import { TRPCClientError } from "../../src/client.ts";
import { tempDir } from "../support/db.ts";
import { ADMIN_TOKEN, chromiumAvailable, newPage, screenshot, seedRuns, signIn, startServer, type SeedRun, type Server, sharedBrowser } from "./support.ts";

// One browser for this file (without Chromium the suite is skipped, counted, with the notice from support.ts).
const withBrowser = sharedBrowser();

const HOUR = 3_600_000;

async function seedJobs(server: Server) {
  const { client } = server;
  const every5 = await client.jobs.create.mutate({ name: "refresh-feeds", jobType: "noop", intervalMinutes: 5 });
  const nightly = await client.jobs.create.mutate({ name: "nightly-report", jobType: "noop", cron: "0 3 * * *", timezone: "Europe/Berlin" });
  const once = await client.jobs.create.mutate({ name: "send-reminder", jobType: "noop", runAt: "2030-01-05T12:00:00Z" });
  return { every5, nightly, once };
}

const rowOf = (page: Page, id: number) => page.locator(`tr[data-job-id="${id}"]`);

describe.skipIf(!chromiumAvailable)("dashboard in a browser", () => {
  test("the sign-in form refuses a wrong token and accepts the right one; signing out forgets it", withBrowser(async (browser) => {
    const server = startServer();
    await seedJobs(server);
    const page = await newPage(browser);
    const calls: string[] = [];
    page.on("request", (r) => { if (/\/(trpc|api)\//.test(r.url())) calls.push(r.url()); });

    await page.goto(server.url);
    expect(await page.isVisible("#signin-form")).toBe(true);
    expect(await page.isVisible("#app")).toBe(false);
    expect(await page.content()).not.toContain("refresh-feeds");
    expect(calls).toEqual([]);

    await page.fill("#token", "wrong-token");
    await page.click("#signin-submit");
    await page.waitForFunction(() => document.getElementById("signin-error")!.textContent!.includes("refused"));
    expect(await page.isVisible("#app")).toBe(false);
    expect(await page.locator("tr[data-job-id]").count()).toBe(0);

    await page.fill("#token", ADMIN_TOKEN);
    await page.click("#signin-submit");
    await page.waitForSelector("tr[data-job-id]");
    expect(await page.locator("#signin").isHidden()).toBe(true);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    expect(calls.every((u) => !u.includes(ADMIN_TOKEN))).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem("cronjobs.adminToken"))).toBe(ADMIN_TOKEN);

    await page.click("#signout");
    expect(await page.isVisible("#signin-form")).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem("cronjobs.adminToken"))).toBeNull();
    expect(await page.locator("#view").innerHTML()).toBe("");
    await page.reload();
    expect(await page.isVisible("#signin-form")).toBe(true);
    expect(await page.locator("tr[data-job-id]").count()).toBe(0);
  }), 30_000);

  test("seeded jobs appear with their schedules in words", withBrowser(async (browser) => {
    const server = startServer();
    const { every5, nightly, once } = await seedJobs(server);
    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.waitForSelector("tr[data-job-id]");
    const schedule = (id: number) => rowOf(page, id).locator("td.col-schedule").textContent();
    expect(await schedule(every5.id)).toBe("every 5 minutes");
    expect(await schedule(nightly.id)).toBe("at 03:00, every day (Europe/Berlin)");
    expect(await schedule(once.id)).toMatch(/^once at Jan 5, 2030,? 12:00$/);
    // Times read in words, the exact time (in UTC too) on hover.
    const next = rowOf(page, every5.id).locator("td.col-next-run time");
    expect(await next.textContent()).toMatch(/^(in (a moment|\d+ (s|min))|just now)$/);
    expect(await next.getAttribute("title")).toContain("UTC");
  }), 30_000);

  test("pausing a job: the row says paused and the database agrees", withBrowser(async (browser) => {
    const server = startServer();
    const { every5 } = await seedJobs(server);
    const page = await newPage(browser);
    await signIn(page, server.url);
    await rowOf(page, every5.id).locator('button[data-action="pause"]').click();
    await page.waitForFunction((id) => document.querySelector(`tr[data-job-id="${id}"] td.col-state`)?.textContent === "paused", every5.id);
    expect((await server.store.getJob(every5.id))!.isActive).toBe(false);
    expect(await rowOf(page, every5.id).locator('button[data-action="resume"]').isVisible()).toBe(true);
  }), 30_000);

  test("running a job now: its run appears in the runs view within a second", withBrowser(async (browser) => {
    const server = startServer();
    const { nightly } = await seedJobs(server);
    const watcher = await newPage(browser);
    await signIn(watcher, server.url);
    await watcher.click('.tabs a[data-view="runs"]');
    await watcher.waitForSelector(".runs-table tr.empty");

    const page = await newPage(browser);
    await signIn(page, server.url);
    await rowOf(page, nightly.id).locator('button[data-action="run"]').click();
    await page.waitForSelector(".toast >> text=succeeded");
    const ranAt = Date.now();
    await watcher.waitForSelector(`.runs-table tr[data-status="succeeded"] >> text=nightly-report`, { timeout: 2000 });
    expect(Date.now() - ranAt).toBeLessThan(1000);
    const history = await server.store.listRuns({ limit: 10 });
    expect(history.items.map((r) => [r.jobId, r.status])).toEqual([[nightly.id, "succeeded"]]);
  }), 30_000);

  test("an invalid create (interval 0) shows the server's message next to the field and adds nothing", withBrowser(async (browser) => {
    const server = startServer();
    await seedJobs(server);
    const before = await server.store.listJobs({ limit: 100 }, Date.now());
    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.click("text=New job");
    await page.fill("#job-form-name", "zero-interval");
    await page.selectOption("#job-form-jobType", "noop");
    await page.check('input[name="kind"][value="interval"]', { force: true });
    await page.fill("#job-form-intervalMinutes", "0");
    await page.click('.job-form button[type="submit"]');
    const error = page.locator('[data-error-for="intervalMinutes"]');
    await page.waitForFunction(() => document.querySelector('[data-error-for="intervalMinutes"]')?.textContent !== "");

    // The very message the server gives for this input.
    const served = await server.client.jobs.create.mutate({ name: "zero-interval", intervalMinutes: 0 }).catch((e: unknown) => e);
    expect(served).toBeInstanceOf(TRPCClientError);
    const expected = fieldErrors(served, ["intervalMinutes"]).get("intervalMinutes");
    expect(expected).toBe("must be at least 1");
    expect(await error.textContent()).toBe(expected!);
    // Next to its field: in the same field block, and the input is marked invalid and described by it.
    expect(await page.locator(".field-intervalMinutes [data-error-for=intervalMinutes]").count()).toBe(1);
    expect(await page.getAttribute("#job-form-intervalMinutes", "aria-invalid")).toBe("true");
    expect(await page.getAttribute("#job-form-intervalMinutes", "aria-describedby")).toContain(await error.getAttribute("id") as string);
    expect(await page.isVisible(".job-form")).toBe(true);
    const after = await server.store.listJobs({ limit: 100 }, Date.now());
    expect(after.items.map((j) => j.id)).toEqual(before.items.map((j) => j.id));
  }), 30_000);

  test("the form shows the next five start times as a cron expression is typed, and a bad one's error at once", withBrowser(async (browser) => {
    const server = startServer();
    const page = await newPage(browser);
    await signIn(page, server.url);
    const calls: string[] = [];
    // The page refreshes its lists every second; what must not happen is a request for the schedule.
    page.on("request", (r) => { if (/\/trpc\/.*preview/.test(r.url())) calls.push(r.url()); });
    await page.click("text=New job");
    await page.check('input[name="kind"][value="cron"]', { force: true });
    await page.fill("#job-form-timezone", "Europe/Paris");
    await page.fill("#job-form-cron", "0 9 * * 1-5");
    await page.waitForSelector(".next-starts li");
    expect(await page.locator(".schedule-preview").textContent()).toBe("Runs at 09:00, Monday through Friday (Europe/Paris).");
    const times = await page.locator(".next-starts time").evaluateAll((els) => els.map((el) => el.getAttribute("datetime")!));
    const expected = await server.client.jobs.preview.query({ cron: "0 9 * * 1-5", timezone: "Europe/Paris" });
    // The very times the server answers (computed a moment later: the same unless 09:00 in Paris passed in between).
    expect(times).toEqual(expected.next);
    for (const t of times) expect(new Date(t).getUTCDay()).toBeOneOf([1, 2, 3, 4, 5]);
    expect(calls).toEqual([]); // computed in the page, no request per keystroke

    await page.fill("#job-form-cron", "61 9 * * 1-5");
    await page.waitForFunction(() => document.querySelector('[data-error-for="cron"]')?.textContent !== "");
    expect(await page.locator('[data-error-for="cron"]').textContent()).toBe("Invalid value for minute: 61");
    expect(await page.getAttribute("#job-form-cron", "aria-invalid")).toBe("true");
    expect(await page.locator(".next-starts li").count()).toBe(0);
    expect(await page.locator(".schedule-preview").textContent()).toBe("");

    await page.fill("#job-form-cron", "*/15 * * * *");
    await page.waitForSelector(".next-starts li");
    expect(await page.locator('[data-error-for="cron"]').textContent()).toBe("");
    expect(await page.getAttribute("#job-form-cron", "aria-invalid")).toBe("false");
  }), 30_000);

  test("the chart draws one bar group per hour with the right counts", withBrowser(async (browser) => {
    const server = startServer();
    const { every5 } = await seedJobs(server);
    const now = Date.now();
    const first = windowStart(now, DAY_OF_HOURS);
    // Every hour has runs; failures and timeouts in some. Each lands mid-hour (or just now for the last).
    const runs: SeedRun[] = [];
    for (let i = 0; i < 24; i++) {
      const at = Math.min(now - 1000, first + i * HOUR + HOUR / 2);
      const add = (status: SeedRun["status"], n: number) => { for (let k = 0; k < n; k++) runs.push({ jobId: every5.id, name: "refresh-feeds", status, finishedAt: at - k }); };
      add("succeeded", 1 + (i % 4) * 2);
      if (i % 3 === 0) add("failed", 1 + (i % 2));
      if (i % 5 === 0) add("timed_out", 2);
    }
    seedRuns(server, runs);
    const expected = bucketRuns(runs, now);

    const page = await newPage(browser);
    await signIn(page, server.url);
    await page.click('.tabs a[data-view="runs"]');
    await page.waitForSelector(".chart-plot canvas");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="chart-table"] tbody tr').length === 24);
    const table = await page.$$eval('[data-testid="chart-table"] tbody tr', (trs) => trs.map((tr) => ({
      start: Date.parse(tr.getAttribute("data-start")!),
      counts: Array.from(tr.querySelectorAll("td"), (td) => Number(td.textContent)),
    })));
    expect(table).toEqual(expected.map((b) => ({ start: b.start, counts: [b.succeeded, b.failed, b.timedOut] })));

    // What the canvas shows: bars standing on the baseline, by colour, left to right.
    const bars = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>(".chart-plot canvas")!;
      const over = document.querySelector(".chart-plot .u-over")!.getBoundingClientRect();
      const box = canvas.getBoundingClientRect();
      const ratio = canvas.width / box.width;
      const { data, width } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      const probe = document.createElement("span");
      document.body.append(probe);
      const rgb = (v: string) => { probe.style.color = `var(${v})`; return getComputedStyle(probe).color.match(/\d+/g)!.slice(0, 3).map(Number); };
      const colours = { succeeded: rgb("--ok"), failed: rgb("--fail"), timedOut: rgb("--timeout") };
      probe.remove();
      const at = (x: number, y: number) => data.slice((y * width + x) * 4, (y * width + x) * 4 + 3);
      const seriesAt = (x: number, y: number) => {
        const p = at(x, y);
        return (Object.keys(colours) as (keyof typeof colours)[]).find((k) => colours[k].every((c, i) => Math.abs(c - p[i]!) < 24));
      };
      const left = Math.ceil((over.left - box.left) * ratio);
      const right = Math.floor((over.right - box.left) * ratio);
      const base = Math.floor((over.bottom - box.top) * ratio) - 2;
      const found: { series: string; x: number; height: number }[] = [];
      let x = left;
      while (x < right) {
        const series = seriesAt(x, base);
        if (!series) { x++; continue; }
        let end = x;
        while (end + 1 < right && seriesAt(end + 1, base) === series) end++;
        const mid = Math.round((x + end) / 2);
        let top = base;
        while (top > 0 && seriesAt(mid, top - 1) === series) top--;
        if (end - x >= 1) found.push({ series, x: (mid - left) / (right - left), height: base - top + 2 });
        x = end + 1;
      }
      return found;
    });
    const bucketOf = (x: number) => Math.floor(x * 24);
    for (const key of ["succeeded", "failed", "timedOut"] as const) {
      const drawn = bars.filter((b) => b.series === key);
      const want = expected.map((b, i) => ({ i, n: b[key] })).filter((b) => b.n > 0);
      expect(drawn.map((b) => bucketOf(b.x))).toEqual(want.map((b) => b.i));
      // Heights in proportion to the counts (within a few device pixels).
      const unit = Math.max(...drawn.map((b) => b.height)) / Math.max(...want.map((b) => b.n));
      drawn.forEach((b, k) => expect(Math.abs(b.height - want[k]!.n * unit)).toBeLessThanOrEqual(3));
    }
    // One group per hour: each hour's bars in the order succeeded, failed, timed out.
    for (let i = 0; i < 24; i++) {
      const group = bars.filter((b) => bucketOf(b.x) === i).map((b) => b.series);
      expect(group).toEqual(["succeeded", "failed", "timedOut"].filter((k) => expected[i]![k as "failed"] > 0));
    }
  }), 30_000);

  test("the page works 390 px wide", withBrowser(async (browser) => {
    const server = startServer();
    const { every5 } = await seedJobs(server);
    seedRuns(server, [{ jobId: every5.id, name: "refresh-feeds", status: "failed", finishedAt: Date.now() - 60_000, error: "connection refused" }]);
    const dir = tempDir("cronjobs-shots-");
    const page = await newPage(browser, { width: 390, height: 844 });
    await signIn(page, server.url);
    await page.waitForSelector("tr[data-job-id]");
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    // Rows are cards: the actions fit and work.
    const pause = rowOf(page, every5.id).locator('button[data-action="pause"]');
    const box = (await pause.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await pause.click();
    await page.waitForFunction((id) => document.querySelector(`tr[data-job-id="${id}"] td.col-state`)?.textContent === "paused", every5.id);
    expect((await screenshot(page, dir, "phone-jobs")).colours).toBeGreaterThan(20);
    await page.click("text=New job");
    await page.waitForSelector(".job-form");
    expect(await page.$eval("dialog", (d) => d.getBoundingClientRect().right)).toBeLessThanOrEqual(390);
    expect((await screenshot(page, dir, "phone-job-form")).colours).toBeGreaterThan(20);
    await page.keyboard.press("Escape");

    await page.click('.tabs a[data-view="runs"]');
    await page.waitForSelector(".chart-plot canvas");
    await page.waitForSelector(".runs-table tr[data-run-id]");
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await page.$eval(".chart-plot canvas", (c) => c.getBoundingClientRect().right)).toBeLessThanOrEqual(390);
    expect((await screenshot(page, dir, "phone-runs")).colours).toBeGreaterThan(20);

    await page.click('.tabs a[data-view="health"]');
    await page.waitForSelector(".check[data-source]");
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect((await screenshot(page, dir, "phone-health")).colours).toBeGreaterThan(20);
  }), 30_000);

  test("screenshots of each view are saved and not blank", withBrowser(async (browser) => {
    const server = startServer();
    const { every5, nightly, once } = await seedJobs(server);
    // Every state on screen: failing, dead, paused, with errors.
    const { user } = await server.client.users.register.mutate({ email: "ada@example.com" });
    const flaky = await server.client.jobs.create.mutate({ name: "flaky-import", jobType: "fail", intervalMinutes: 15, userId: user.id });
    await server.client.jobs.runNow.mutate({ id: flaky.id });
    const dead = await server.client.jobs.create.mutate({ name: "charge-card", jobType: "fail", runAt: new Date(Date.now() + HOUR).toISOString(), maxAttempts: 1, userId: user.id });
    await server.client.jobs.runNow.mutate({ id: dead.id });
    await server.client.jobs.pause.mutate({ id: once.id });
    await server.client.jobs.runNow.mutate({ id: every5.id });
    const now = Date.now();
    seedRuns(server, Array.from({ length: 60 }, (_, i) => ({
      jobId: i % 2 ? every5.id : nightly.id, name: i % 2 ? "refresh-feeds" : "nightly-report",
      status: i % 11 === 0 ? "failed" : i % 17 === 0 ? "timed_out" : "succeeded", finishedAt: now - i * 23 * 60_000,
    })));
    const dir = tempDir("cronjobs-shots-");
    for (const scheme of ["light", "dark"] as const) {
      const page = await newPage(browser, { colorScheme: scheme });
      await page.goto(server.url);
      const shots = [await screenshot(page, dir, `${scheme}-signin`)];
      await signIn(page, server.url);
      await page.waitForSelector("tr[data-job-id]");
      shots.push(await screenshot(page, dir, `${scheme}-jobs`));
      await page.click("text=New job");
      await page.waitForSelector(".job-form");
      shots.push(await screenshot(page, dir, `${scheme}-job-form`));
      await page.keyboard.press("Escape");
      await page.click('.tabs a[data-view="runs"]');
      await page.waitForSelector(".runs-table tr[data-run-id]");
      await page.waitForSelector(".strip[data-job-id]");
      shots.push(await screenshot(page, dir, `${scheme}-runs`));
      shots.push(await screenshot(page, dir, `${scheme}-runs-top`, page.locator(".runs-top")));
      await page.click('.tabs a[data-view="health"]');
      await page.waitForSelector(".check[data-source]");
      shots.push(await screenshot(page, dir, `${scheme}-health`));
      for (const shot of shots) {
        expect(shot.bytes).toBeGreaterThan(8_000);
        expect(shot.colours).toBeGreaterThan(20);
        expect(shot.spread).toBeGreaterThan(5);
      }
    }
  }), 30_000);
});
