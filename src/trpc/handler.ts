import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { errorMessage } from "../errors.ts";
import { errorResponse } from "../server/http-errors.ts";
import { contextFromRequest, type ControlPlane } from "./context.ts";
import { appRouter } from "./router.ts";

const MAX_BODY_BYTES = 1024 * 1024;

/** Serves `/trpc/*` with tRPC's fetch adapter (tRPC 11 mounted directly, not through a plugin). */
export function handleTrpc(request: Request, plane: ControlPlane): Promise<Response> | Response {
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
    return errorResponse(413, "PAYLOAD_TOO_LARGE", `body larger than ${MAX_BODY_BYTES} bytes`);
  }
  return fetchRequestHandler({
    endpoint: "/trpc",
    req: request,
    router: appRouter,
    maxBatchSize: 1000,
    createContext: () => contextFromRequest(plane, request),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") plane.logger.error("procedure failed", { path, error: errorMessage(error.cause ?? error) });
    },
  });
}
