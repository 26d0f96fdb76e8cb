import { Elysia } from "elysia";
import { errorMessage } from "../errors.ts";
import { createControlPlane } from "../trpc/context.ts";
import { handleTrpc } from "./trpc-route.ts";
import { VERSION } from "../version.ts";
import { handleCronRun } from "./cron-route.ts";
import { dashboardRoutes } from "./dashboard-route.ts";
import type { ServerDeps } from "./deps.ts";
import { errorResponse, responseForError } from "./http-errors.ts";
import { renderMetrics } from "./metrics-route.ts";

/**
 * Builds the HTTP app without listening: tests call `app.handle(request)`, `app serve`
 * calls `listen`. Routes stay thin; the work is in the runner and the store.
 */
export function buildApp(deps: ServerDeps) {
  const plane = createControlPlane(deps);
  return new Elysia()
    .onError(({ code, error }) => {
      if (code === "NOT_FOUND") return errorResponse(404, "NOT_FOUND", "no such route");
      if (code === "PARSE" || code === "VALIDATION") return errorResponse(400, "INVALID_INPUT", errorMessage(error));
      deps.logger.error("request failed", { error: errorMessage(error) });
      return responseForError(error);
    })
    .all("/api/cron/run", ({ request }) => handleCronRun(request, deps))
    .all("/trpc/*", ({ request }) => handleTrpc(request, plane), { parse: "none" })
    .get("/healthz", async () => {
      try {
        await deps.store.ping();
        // Pause all (SPEC §5.3.1): a paused server is healthy but runs nothing; monitors see which.
        return Response.json({ ok: true, db: "ok", version: VERSION, paused: await deps.jobs.pausedAll() });
      } catch (err) {
        return Response.json({ ok: false, db: errorMessage(err), version: VERSION }, { status: 503 });
      }
    })
    .get("/metrics", async () => new Response(await renderMetrics(deps), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }))
    .use(dashboardRoutes(deps));
}

export type App = ReturnType<typeof buildApp>;
