/**
 * The tests status page (`FRESHNESS_DIR/all_tests_cronjob_fresh.html`) at `GET /tests-page`,
 * for people signed in to the dashboard. A new tab cannot send the dashboard's bearer header, so
 * the dashboard first calls `POST /tests-page/session` with it; the answer sets a cookie that
 * only this path gets (`HttpOnly`, `SameSite=Strict`). The page then loads, and reloads every
 * minute (its meta refresh), under its own CSP, which allows its inline stale check — the same
 * page as from `file://`, stale marker included.
 *
 * The cookie holds no token: `name.expiry.mac`, the MAC keyed by the named token itself, so it
 * is void when that token is revoked or changed, and at its expiry.
 */
import { Elysia } from "elysia";
import { FRESHNESS_FILES, readFileNoFollow } from "../watchdog/files.ts";
import { TESTS_PAGE_CSP } from "../watchdog/tests-page.ts";
import { bearerToken, secretMatches, type NamedToken, type TokenTable } from "../secrets.ts";
import type { ServerDeps } from "./deps.ts";

export const TESTS_PAGE_PATH = "/tests-page";
const COOKIE = "cronjobs_tests_page";
/** How long one visit from the dashboard lasts: the page reloads itself every minute meanwhile. */
const SESSION_MS = 12 * 3_600_000;
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

const HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const text = (status: number, body: string, extra: Record<string, string> = {}) =>
  new Response(`${body}\n`, { status, headers: { ...HEADERS, "content-type": "text/plain; charset=utf-8", ...extra } });

function mac(entry: NamedToken, expiry: number): string {
  return new Bun.CryptoHasher("sha256", entry.token).update(`tests-page.${entry.name}.${expiry}`).digest("base64url");
}

/** The token's holder whose cookie `value` is, if it is valid now. */
function cookieHolder(value: string | undefined, tokens: TokenTable, now: number): NamedToken | undefined {
  const match = /^([A-Za-z0-9_.@-]{1,64})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value ?? "");
  if (!match) return undefined;
  const [, name, expiryText, presented] = match;
  const expiry = Number(expiryText);
  if (expiry <= now) return undefined;
  const entry = tokens.entries.find((e) => e.name === name);
  return entry && secretMatches(presented!, mac(entry, expiry)) ? entry : undefined;
}

function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

/** `POST /tests-page/session` and `GET /tests-page`; an admin or viewer token either way, checked before anything else. */
export function testsPageRoutes(deps: Pick<ServerDeps, "clock" | "freshnessDir">, tokens: TokenTable) {
  return new Elysia()
    .post(`${TESTS_PAGE_PATH}/session`, ({ request }) => {
      const entry = tokens.identify(bearerToken(request.headers.get("authorization")));
      // The body is never read (parse: none): nothing an unauthenticated caller sends is buffered.
      if (!entry) return text(401, "missing or wrong token (Authorization: Bearer <ADMIN_TOKEN or VIEWER_TOKEN>)");
      const expiry = deps.clock.now() + SESSION_MS;
      const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
      const cookie = `${COOKIE}=${entry.name}.${expiry}.${mac(entry, expiry)}; Path=${TESTS_PAGE_PATH}; Max-Age=${SESSION_MS / 1000}; HttpOnly; SameSite=Strict${secure}`;
      return new Response(null, { status: 204, headers: { ...HEADERS, "set-cookie": cookie } });
    }, { parse: "none" })
    .get(TESTS_PAGE_PATH, ({ request }) => {
      const now = deps.clock.now();
      const entry = tokens.identify(bearerToken(request.headers.get("authorization"))) ?? cookieHolder(readCookie(request, COOKIE), tokens, now);
      if (!entry) {
        return text(401, "Not signed in: open the tests page from the dashboard (Health → Open the tests status page), or send Authorization: Bearer <token>.");
      }
      const file = `${deps.freshnessDir}/${FRESHNESS_FILES.testsHtml}`;
      let html: string;
      try {
        html = readFileNoFollow(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return text(404, "No tests page yet: app tests-cronjob-runner has not finished a run.");
        return text(500, `Cannot read the tests page${code === "ELOOP" ? ": it is a symlink (not followed)" : ""}.`);
      }
      if (html.length > MAX_PAGE_BYTES) html = `<!doctype html><meta charset="utf-8"><title>Tests page too large</title><p>The tests page is larger than ${MAX_PAGE_BYTES} bytes; open it on the server.</p>`;
      return new Response(html, {
        headers: {
          ...HEADERS,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": `${TESTS_PAGE_CSP}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
          "x-frame-options": "DENY",
        },
      });
    });
}
