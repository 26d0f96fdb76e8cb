/**
 * `GET /tests-page`: the tests status page served to the dashboard's users, under the page's
 * own CSP, authenticated by a bearer token or by the cookie `POST /tests-page/session` sets.
 */
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../src/watchdog/files.ts";
import { renderTestsPage, STALE_SCRIPT_HASH } from "../../src/watchdog/tests-page.ts";
import type { TestsReport } from "../../src/watchdog/tests-report.ts";
import { buildApp } from "../../src/server/app.ts";
import { tempDir } from "../support/db.ts";
import { ADMIN_TOKEN, CRON_SECRET, freshDeps } from "../trpc/support.ts";

const VIEWER_TOKEN = "viewer-token-0123456789abcdef";

function report(finishedAt: number): TestsReport {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    version: 1, status: "passed", startedAt: iso(finishedAt - 1000), finishedAt: iso(finishedAt), durationMs: 1000,
    counts: { tests: 2, passed: 2, failed: 0, skipped: 0 }, reason: "all 2 tests passed", command: "bun test", cwd: "/srv/app", host: "box",
    exitCode: 0, signal: null, countsFrom: "junit", failures: [], moreFailures: 0, staleAfter: iso(finishedAt + 3_600_000), staleAfterSeconds: 3600,
    output: "ok", history: [],
  };
}

function setup(adminToken = ADMIN_TOKEN) {
  const env = freshDeps();
  const app = buildApp({ ...env.deps, secrets: { cronSecret: CRON_SECRET, adminToken, viewerToken: VIEWER_TOKEN } });
  const call = (url: string, init: RequestInit = {}) => app.handle(new Request(`http://localhost${url}`, init));
  const page = path.join(env.deps.freshnessDir, "all_tests_cronjob_fresh.html");
  return { ...env, app, call, page };
}

/** The cookie a session answer sets, as a browser sends it back. */
async function signIn(call: ReturnType<typeof setup>["call"], token: string): Promise<string> {
  const res = await call("/tests-page/session", { method: "POST", headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(204);
  const cookie = res.headers.get("set-cookie")!;
  expect(cookie).toMatch(/^cronjobs_tests_page=[^;]+; Path=\/tests-page; Max-Age=43200; HttpOnly; SameSite=Strict$/);
  expect(cookie).not.toContain(token);
  return cookie.split(";")[0]!;
}

describe("GET /tests-page", () => {
  test("signed in through the dashboard's session call (admin or viewer): the page, with its own CSP allowing its script; reloads keep working", async () => {
    const { call, page, clock } = setup();
    writeFileAtomic(page, renderTestsPage(report(clock.now())));
    for (const token of [ADMIN_TOKEN, VIEWER_TOKEN]) {
      const cookie = await signIn(call, token);
      for (let reload = 0; reload < 2; reload++) {
        clock.advance(70_000); // past a minute: the page's meta refresh
        const res = await call("/tests-page", { headers: { cookie } });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
        expect(res.headers.get("content-security-policy")).toContain(`script-src 'sha256-${STALE_SCRIPT_HASH}'`);
        expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
        expect(res.headers.get("cache-control")).toBe("no-store");
        expect(await res.text()).toBe(fs.readFileSync(page, "utf8"));
      }
    }
    // A bearer header works too (curl).
    expect((await call("/tests-page", { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(200);
  });

  test("refused without a valid token or cookie: 401 before anything is read", async () => {
    const { call, page, clock } = setup();
    writeFileAtomic(page, renderTestsPage(report(clock.now())));
    const refused = [
      await call("/tests-page"),
      await call("/tests-page", { headers: { authorization: "Bearer wrong-token-0123456789" } }),
      await call("/tests-page", { headers: { cookie: "cronjobs_tests_page=admin.99999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } }),
      await call("/tests-page/session", { method: "POST" }),
      await call("/tests-page/session", { method: "POST", headers: { authorization: "Bearer wrong-token-0123456789" }, body: "x".repeat(1024) }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).not.toContain("<html");
    }
    // A cookie is void after its 12 hours.
    const cookie = await signIn(call, ADMIN_TOKEN);
    clock.advance(12 * 3_600_000 + 1);
    expect((await call("/tests-page", { headers: { cookie } })).status).toBe(401);
  });

  test("a cookie is void once its token is no longer accepted (revoked or changed)", async () => {
    const before = setup(`ops:${ADMIN_TOKEN}`);
    const cookie = await signIn(before.call, ADMIN_TOKEN);
    writeFileAtomic(before.page, renderTestsPage(report(before.clock.now())));
    expect((await before.call("/tests-page", { headers: { cookie } })).status).toBe(200);
    // The same server data, another token under the same name.
    const after = buildApp({ ...before.deps, secrets: { cronSecret: CRON_SECRET, adminToken: "ops:another-admin-token-0123456789" } });
    expect((await after.handle(new Request("http://localhost/tests-page", { headers: { cookie } }))).status).toBe(401);
  });

  test("no page yet: 404 saying so; a symlink planted at its name is not followed", async () => {
    const { call, page } = setup();
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const missing = await call("/tests-page", { headers });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("No tests page yet");
    const secret = path.join(tempDir(), "secret.html");
    fs.writeFileSync(secret, "<p>not for you</p>");
    fs.symlinkSync(secret, page);
    const planted = await call("/tests-page", { headers });
    expect(planted.status).toBe(500);
    expect(await planted.text()).not.toContain("not for you");
  });
});
