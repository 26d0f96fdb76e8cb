import { SECRETS } from "../support/server.ts";
import { PROCEDURES } from "./procedures.ts";

const ORIGIN = "http://localhost";

export type Headers = Record<string, string>;

/** The admin's `Authorization` header, or none for `token: undefined`. */
export function authHeader(token: string | undefined = SECRETS.adminToken): Headers {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/**
 * One call as the typed client sends it: a query as `GET /trpc/<proc>?input=<json>`, a
 * mutation as `POST /trpc/<proc>` with the JSON as body. `text: undefined` sends no input.
 */
export function trpcCall(procedure: string, text: string | undefined, headers: Headers = authHeader()): Request {
  if (PROCEDURES[procedure]?.type === "query") {
    const query = text === undefined ? "" : `?input=${encodeURIComponent(text)}`;
    return new Request(`${ORIGIN}/trpc/${procedure}${query}`, { headers });
  }
  return new Request(`${ORIGIN}/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    ...(text === undefined ? {} : { body: text }),
  });
}

/**
 * A batch: `/trpc/<a>,<b>?batch=1`, the inputs keyed by index (in the query for GET, the body
 * for POST). `paths` go into the URL as given (already URL-encoded where they need it).
 */
export function batchCall(paths: string[], text: string | undefined, method: "GET" | "POST", headers: Headers, batchParam = "1"): Request {
  const path = paths.join(",");
  const params = new URLSearchParams({ batch: batchParam });
  if (method === "GET" && text !== undefined) params.set("input", text);
  return new Request(`${ORIGIN}/trpc/${path}?${params}`, {
    method,
    headers: method === "POST" ? { "content-type": "application/json", ...headers } : headers,
    ...(method === "POST" && text !== undefined ? { body: text } : {}),
  });
}

export function cronRun(init: { body?: BodyInit; headers?: Headers; method?: string; query?: string } = {}): Request {
  return new Request(`${ORIGIN}/api/cron/run${init.query ?? ""}`, {
    method: init.method ?? "POST",
    headers: init.headers ?? { authorization: `Bearer ${SECRETS.cronSecret}` },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

/** A body of `size` bytes sent as a stream, so the request declares no `Content-Length`. */
export function streamOf(size: number, chunk = 16 * 1024): ReadableStream<Uint8Array> {
  let left = size;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const n = Math.min(chunk, left);
      left -= n;
      controller.enqueue(new Uint8Array(n).fill(0x20));
    },
  });
}

/** A body that never ends: only a reader that stops at its limit answers at all. */
export function endlessStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ pull: (controller) => controller.enqueue(new Uint8Array(16 * 1024).fill(0x20)) });
}

/** `text` URL-decoded where it can be, for comparing answers with what was sent. */
export function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
