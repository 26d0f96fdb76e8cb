import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { errorMessage } from "../errors.ts";
import { boundedRequest } from "../server/request-body.ts";
import { contextFromRequest, type ControlPlane } from "./context.ts";
import { appRouter } from "./router.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Serves `/trpc/*` with tRPC's fetch adapter (tRPC 11 mounted directly, not through a plugin). */
export async function handleTrpc(request: Request, plane: ControlPlane): Promise<Response> {
  // The body is read here, within the limit, so that a chunked one cannot grow without bound.
  const req = await boundedRequest(request, MAX_BODY_BYTES);
  if (req instanceof Response) return req;
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req,
    router: appRouter,
    maxBatchSize: 1000,
    createContext: () => contextFromRequest(plane, req),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") plane.logger.error("procedure failed", { path, error: errorMessage(error.cause ?? error) });
    },
  });
  // tRPC leaves the type off the errors it answers before any procedure (415, batch errors): they are JSON too.
  if (response.body !== null && !response.headers.has("content-type")) response.headers.set("content-type", "application/json");
  return response;
}
