import { z } from "zod";
import { AppError } from "../errors.ts";
import { bearerToken, secretMatches } from "../secrets.ts";
import type { ServerDeps } from "./deps.ts";
import { errorResponse, responseForError } from "./http-errors.ts";
import { readBodyWithin } from "./request-body.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const bodySchema = z.strictObject({
  limit: z.int().min(1).max(100_000).optional(),
  dryRun: z.boolean().optional(),
});

/** Reads the optional JSON body within the size limit; a `Response` when it is refused. */
async function readBody(request: Request): Promise<z.infer<typeof bodySchema> | Response> {
  const bytes = await readBodyWithin(request, MAX_BODY_BYTES);
  if (bytes instanceof Response) return bytes;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return errorResponse(400, "INVALID_INPUT", "body: not valid UTF-8");
  }
  if (text.trim() === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return errorResponse(400, "INVALID_INPUT", "body: malformed JSON");
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join(".") : issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "body";
    return errorResponse(400, "INVALID_INPUT", `${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** `POST /api/cron/run` (SPEC §6): runs one tick, or lists what is due with `dryRun`. */
export async function handleCronRun(request: Request, deps: ServerDeps): Promise<Response> {
  if (request.method !== "POST") {
    return errorResponse(405, "METHOD_NOT_ALLOWED", "use POST", { allow: "POST" });
  }
  // Secrets in URLs end up in logs: any query string is refused, even beside a good header.
  if (new URL(request.url).search !== "") {
    return errorResponse(401, "UNAUTHORIZED", "query parameters are refused here: send the secret as Authorization: Bearer <CRON_SECRET>");
  }
  const token = bearerToken(request.headers.get("authorization"));
  if (token === undefined || !secretMatches(token, deps.secrets.cronSecret)) {
    return errorResponse(401, "UNAUTHORIZED", "missing or wrong cron secret (Authorization: Bearer <CRON_SECRET>)", { "www-authenticate": "Bearer" });
  }
  const body = await readBody(request);
  if (body instanceof Response) return body;
  try {
    const result = await deps.runner.runDueJobs({ limit: body.limit, dryRun: body.dryRun });
    return Response.json(result);
  } catch (err) {
    if (err instanceof AppError && err.code === "UNAVAILABLE") deps.logger.error("tick failed", { error: err.message });
    return responseForError(err);
  }
}
