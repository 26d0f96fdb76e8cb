import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Elysia } from "elysia";
import { errorMessage } from "../errors.ts";
import { bearerToken, TokenTable } from "../secrets.ts";
import { RunTally } from "../trpc/dashboard-reads.ts";
import { dashboardRouter, type DashboardPlane } from "../trpc/dashboard-router.ts";
import { serveDashboardFile } from "./dashboard-assets.ts";
import type { ServerDeps } from "./deps.ts";
import { errorResponse } from "./http-errors.ts";
import { boundedRequest, withoutBody } from "./request-body.ts";
import { testsPageRoutes } from "./tests-page-route.ts";

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The dashboard: the page at `/`, its bundled files under `/assets/`, and its own read
 * procedures under `/api/dashboard` (the page also calls `/trpc`). The page holds no data;
 * everything it shows comes from calls that carry an admin or viewer token.
 */
export function dashboardRoutes(deps: ServerDeps) {
  const plane: DashboardPlane = { deps, tokens: TokenTable.from(deps.secrets), tally: new RunTally(deps.store), startedAt: deps.clock.now() };
  const file = async (path: string, request: Request) =>
    (await serveDashboardFile(path, request)) ?? errorResponse(404, "NOT_FOUND", "no such file");
  return new Elysia()
    .get("/", ({ request }) => file("/", request))
    .get("/assets/:file", ({ request, params }) => file(`/assets/${params.file}`, request))
    .use(testsPageRoutes(deps, plane.tokens))
    .all("/api/dashboard/*", async ({ request: raw }) => {
      // Every procedure here reads; the token is checked before the body is, as on /trpc.
      const token = bearerToken(raw.headers.get("authorization"));
      const request = plane.tokens.identify(token) === undefined ? withoutBody(raw) : await boundedRequest(raw, MAX_BODY_BYTES);
      if (request instanceof Response) return request;
      return fetchRequestHandler({
        endpoint: "/api/dashboard",
        req: request,
        router: dashboardRouter,
        createContext: () => ({ plane, token }),
        onError: ({ error, path }) => {
          if (error.code === "INTERNAL_SERVER_ERROR") deps.logger.error("dashboard procedure failed", { path, error: errorMessage(error.cause ?? error) });
        },
      });
    }, { parse: "none" });
}
