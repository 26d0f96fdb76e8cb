import { Elysia } from "elysia";
import { serveDashboardFile } from "./dashboard-assets.ts";
import { errorResponse } from "./http-errors.ts";
import { testsPageRoutes } from "./tests-page-route.ts";
import type { ServerDeps } from "./deps.ts";
import { TokenTable } from "../tokens.ts";

/**
 * The dashboard: the page at `/` and its bundled files under `/assets/`. The page holds no
 * data: everything it shows comes from `/trpc` calls that carry an admin or viewer token.
 */
export function dashboardRoutes(deps: ServerDeps) {
  const file = async (path: string, request: Request) =>
    (await serveDashboardFile(path, request)) ?? errorResponse(404, "NOT_FOUND", "no such file");
  return new Elysia()
    .get("/", ({ request }) => file("/", request))
    .get("/assets/:file", ({ request, params }) => file(`/assets/${params.file}`, request))
    .use(testsPageRoutes(deps, TokenTable.from(deps.secrets)));
}
