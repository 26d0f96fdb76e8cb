import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { errorMessage } from "../errors.ts";
import { bearerToken } from "../secrets.ts";
import { boundedRequest, withoutBody } from "./request-body.ts";
import { contextFromRequest, type ControlPlane } from "../trpc/context.ts";
import { appRouter } from "../trpc/router.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Serves `/trpc/*` with tRPC's fetch adapter (tRPC 11 mounted directly, not through a plugin). */
export async function handleTrpc(request: Request, plane: ControlPlane): Promise<Response> {
  // The token is checked before a byte of the body is read: a caller who may not write has its
  // body dropped unread (the procedure's middleware then answers UNAUTHORIZED or FORBIDDEN).
  // An allowed body is read here, within the limit, so that a chunked one cannot grow without bound.
  const identity = plane.tokens.identify(bearerToken(request.headers.get("authorization")));
  const mayWrite = identity !== undefined && (identity.role === "admin" || request.method === "GET");
  const req = mayWrite ? await boundedRequest(request, MAX_BODY_BYTES) : withoutBody(request);
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
