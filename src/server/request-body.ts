import { errorResponse } from "./http-errors.ts";

/**
 * The body of `request`, read up to `maxBytes`; a 413 answer as soon as it declares or sends
 * more. Read chunk by chunk: a body sent without `Content-Length` (chunked) never makes the
 * server hold more than the limit, and a body that never ends is refused, not buffered.
 */
export async function readBodyWithin(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | Response> {
  const tooLarge = () => errorResponse(413, "PAYLOAD_TOO_LARGE", `body larger than ${maxBytes} bytes`);
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) return tooLarge();
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      size += chunk.value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        return tooLarge();
      }
      chunks.push(chunk.value);
    }
  } catch {
    return errorResponse(400, "INVALID_INPUT", "body: could not be read (the client went away?)");
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** `request` with its body read within `maxBytes` (see `readBodyWithin`), for handlers that read it again. */
export async function boundedRequest(request: Request, maxBytes: number): Promise<Request | Response> {
  if (request.body === null) return request;
  const body = await readBodyWithin(request, maxBytes);
  if (body instanceof Response) return body;
  return new Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal });
}

/**
 * `request` without its body, unread: for a caller whose token was refused, so that the
 * handler still answers in its own shape (tRPC's UNAUTHORIZED/FORBIDDEN) while the bytes
 * announced are never buffered.
 */
export function withoutBody(request: Request): Request {
  if (request.body === null) return request;
  const headers = new Headers(request.headers);
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  return new Request(request.url, { method: request.method, headers, signal: request.signal });
}
