import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Elysia } from "elysia";
import { errorMessage } from "../errors.ts";
import { bearerToken } from "../secrets.ts";
import { RunTally } from "../trpc/dashboard-reads.ts";
import { dashboardRouter, type DashboardPlane } from "../trpc/dashboard-router.ts";
import { serveDashboardFile } from "./dashboard-assets.ts";
import type { ServerDeps } from "./deps.ts";
import { errorResponse } from "./http-errors.ts";

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The dashboard: the page at `/`, its bundled files under `/assets/`, and its own read
 * procedures under `/api/dashboard` (the page also calls `/trpc`). The page holds no data;
 * everything it shows comes from calls that carry the admin token.
 */
export function dashboardRoutes(deps: ServerDeps) {
  const plane: DashboardPlane = { deps, tally: new RunTally(deps.store), startedAt: deps.clock.now() };
  const file = async (path: string, request: Request) =>
    (await serveDashboardFile(path, request)) ?? errorResponse(404, "NOT_FOUND", "no such file");
  return new Elysia()
    .get("/", ({ request }) => file("/", request))
    .get("/assets/:file", ({ request, params }) => file(`/assets/${params.file}`, request))
    .all("/api/dashboard/*", ({ request }) => {
      if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
        return errorResponse(413, "PAYLOAD_TOO_LARGE", `body larger than ${MAX_BODY_BYTES} bytes`);
      }
      return fetchRequestHandler({
        endpoint: "/api/dashboard",
        req: request,
        router: dashboardRouter,
        createContext: () => ({ plane, token: bearerToken(request.headers.get("authorization")) }),
        onError: ({ error, path }) => {
          if (error.code === "INTERNAL_SERVER_ERROR") deps.logger.error("dashboard procedure failed", { path, error: errorMessage(error.cause ?? error) });
        },
      });
    }, { parse: "none" });
}
