/**
 * Properties of `/trpc` under generated transports, as the admin: any method, path, content
 * type, body (not UTF-8, random bytes, deep, oversized, streamed), query parameters, batches
 * (well-formed or not) and streamed answers are answered below 500, as JSON (or JSONL) with
 * an error code when refused, and a refused request or any GET changes nothing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_BODY_BYTES } from "../../src/server/trpc-route.ts";
import { CONTENT_TYPES, deepValue, Entries, hostileValue, jsonText, withInvalidUtf8 } from "./arbitraries.ts";
import { fuzzBench, REQUEST_BUDGET, requestsSent, runsOf } from "./harness.ts";
import { inputOf, PROCEDURE_NAMES } from "./procedures.ts";
import { authHeader, batchCall, decoded, endlessStream, streamOf, type Headers } from "./requests.ts";

const TRANSPORT_RUNS = 1_200;
const BATCH_RUNS = REQUEST_BUDGET.trpcTransport - TRANSPORT_RUNS;

const WEIRD_PATHS = [
  "", "jobs", "jobs.", ".list", "jobs..list", "jobs/list", "jobs.list/", "JOBS.LIST", "jobs.list%20", "jobs.nope", "__proto__",
  "constructor", "jobs.__proto__", "jobs.constructor", "jobs.toString", "prototype", "_def", "_def.procedures", "jobs._def",
  "createCaller", "..", "%2e%2e", "jobs%2Elist", "jobs.list%00", "jobs.list%ff", "%", "%E0%A4%A", "jobs.list;x", "jobs.list,",
];
const path = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PROCEDURE_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...WEIRD_PATHS) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent) },
);

/** A body: bytes, or a stream of `stream` bytes (no Content-Length), or a Content-Length that lies. */
interface Body {
  bytes?: Uint8Array<ArrayBuffer>;
  stream?: number;
  declared?: number;
  [fc.toStringMethod](): string;
}
const body = (parts: Omit<Body, typeof fc.toStringMethod>): Body => ({
  ...parts,
  [fc.toStringMethod]: () => JSON.stringify({ ...parts, bytes: parts.bytes && new TextDecoder().decode(parts.bytes.subarray(0, 200)) }),
});
const utf8 = (text: string) => new TextEncoder().encode(text);
const anyInput = fc.constantFrom(...PROCEDURE_NAMES).chain(inputOf).map((v) => (v === undefined ? "" : jsonText(v)));
const bodies = fc.oneof(
  { weight: 4, arbitrary: anyInput.map((t) => body({ bytes: utf8(t) })) },
  { weight: 2, arbitrary: withInvalidUtf8(anyInput).map((bytes) => body({ bytes })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => body({ bytes })) },
  { weight: 1, arbitrary: deepValue.map((v) => body({ bytes: utf8(jsonText(v)) })) },
  { weight: 1, arbitrary: fc.constantFrom("--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nnoop\r\n--x--\r\n", "a=1&b=2", "\ufeff{}").map((t) => body({ bytes: utf8(t) })) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY_BYTES + 1, max: 2 * MAX_BODY_BYTES }).map((n) => body({ bytes: utf8(`{"name":"${"x".repeat(n)}"}`) })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * MAX_BODY_BYTES }).map((stream) => body({ stream })) },
  { weight: 1, arbitrary: fc.tuple(anyInput, fc.constantFrom(MAX_BODY_BYTES + 1, 2 ** 40, 0, 1)).map(([t, declared]) => body({ bytes: utf8(t), declared })) },
);
const query = fc.record({
  input: fc.option(anyInput, { freq: 2 }),
  batch: fc.option(fc.constantFrom("1", "0", "true", "", "2"), { freq: 2 }),
  connectionParams: fc.option(fc.constantFrom("{", "1", "null", '{"token":"x"}', '{"__proto__":{"x":1}}'), { freq: 4 }),
}, { requiredKeys: [] });

/** One call more than the batch limit (1,000), named briefly in reports. */
const TOO_MANY: string[] = Object.assign(Array<string>(1001).fill("jobs.list"), { [fc.toStringMethod]: () => '[1001 × "jobs.list"]' });

function sizeOf(b: Body): number {
  return Math.max(b.stream ?? b.bytes?.length ?? 0, b.declared ?? 0);
}

describe("fuzz: /trpc transports", () => {
  test(`${TRANSPORT_RUNS} generated requests: any method, path, content type, body and query`, async () => {
    const bench = await fuzzBench("trpcTransport");
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
      path, contentType: fc.constantFrom(...CONTENT_TYPES), body: bodies, query,
      jsonl: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(request, async ({ method, path, contentType, body, query, jsonl }) => {
      const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === "string"));
      const headers: Headers = { ...authHeader(), ...(contentType === undefined ? {} : { "content-type": contentType }) };
      if (jsonl) headers["trpc-accept"] = "application/jsonl";
      if (body.declared !== undefined) headers["content-length"] = String(body.declared);
      const carries = method !== "GET" && method !== "HEAD";
      const sent = carries ? (body.stream === undefined ? body.bytes : streamOf(body.stream)) : undefined;
      const url = `http://localhost/trpc/${path}${params.size > 0 ? `?${params}` : ""}`;
      fc.pre(new URL(url).pathname.startsWith("/trpc/")); // `..` leaves /trpc: another route's business
      const echo = `${decoded(url)} ${url} ${body.bytes ? new TextDecoder().decode(body.bytes) : ""}`;
      const answer = await bench.send(new Request(url, { method, headers, ...(sent === undefined ? {} : { body: sent }) }), { echo, readOnly: !carries });
      if (carries && sizeOf(body) > MAX_BODY_BYTES) expect(answer.status).toBe(413);
    }), runsOf(20, TRANSPORT_RUNS));
  }, 120_000);

  test(`${BATCH_RUNS} generated batches: well-formed or not, GET or POST, JSON or JSONL answers`, async () => {
    const bench = await fuzzBench("trpcTransport");
    const batch = fc.record({
      paths: fc.oneof({ weight: 9, arbitrary: fc.array(path, { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.constant(TOO_MANY) }),
      method: fc.constantFrom("GET", "POST"),
      jsonl: fc.boolean(),
      batchParam: fc.constantFrom("1", "1", "1", "true", "0"),
    }).chain((shape) => fc.record({
      shape: fc.constant(shape),
      input: fc.oneof(
        { weight: 6, arbitrary: fc.tuple(...shape.paths.slice(0, 6).map((p) => (PROCEDURE_NAMES.includes(p) ? inputOf(p) : hostileValue)))
          .map((inputs) => new Entries(inputs.flatMap((v, i) => (v === undefined ? [] : [[String(i), v] as [string, unknown]])))) },
        { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom("__proto__", "constructor", "-1", "01", "1e0", "length", "0 ", "NaN"), hostileValue), { maxLength: 3 }).map((e) => new Entries(e)) },
        { weight: 1, arbitrary: hostileValue },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
    }));
    await fc.assert(fc.asyncProperty(batch, async ({ shape, input }) => {
      const text = input === undefined ? undefined : jsonText(input);
      const headers: Headers = { ...authHeader(), ...(shape.jsonl ? { "trpc-accept": "application/jsonl" } : {}) };
      const request = batchCall(shape.paths, text, shape.method, headers, shape.batchParam);
      fc.pre(new URL(request.url).pathname.startsWith("/trpc/"));
      await bench.send(request, { echo: `${decoded(shape.paths.join(","))} ${text ?? ""}`, readOnly: shape.method === "GET" });
    }), runsOf(21, BATCH_RUNS));
  }, 120_000);

  test("a body that never ends is refused with 413 once it passes the limit", async () => {
    const bench = await fuzzBench("trpcTransport");
    const request = new Request("http://localhost/trpc/jobs.create", { method: "POST", headers: { ...authHeader(), "content-type": "application/json" }, body: endlessStream() });
    expect((await bench.send(request)).status).toBe(413);
  });

  afterAll(() => {
    expect(requestsSent("trpcTransport")).toBeGreaterThanOrEqual(REQUEST_BUDGET.trpcTransport);
  });
});
