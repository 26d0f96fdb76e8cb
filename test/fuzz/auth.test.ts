/**
 * The auth property of SPEC §7 over generated requests (test/trpc/auth.test.ts has the named
 * cases): for every procedure, any input, alone or in a batch, with a JSON or JSONL answer, a
 * missing, wrong or cron-secret token is UNAUTHORIZED for every call (HTTP 401 unless the
 * answer streams) before any database access: the store is not called once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_BODY_BYTES } from "../../src/server/trpc-route.ts";
import { Entries, hostileString, jsonText } from "./arbitraries.ts";
import { fuzzBench, REQUEST_BUDGET, requestsSent, runsOf, SECRETS } from "./harness.ts";
import { inputOf, PROCEDURE_NAMES, PROCEDURES } from "./procedures.ts";
import { batchCall, trpcCall, type Headers } from "./requests.ts";

const RUNS = REQUEST_BUDGET.auth;
const admin = SECRETS.adminToken;

/** Authorization headers that must not open /trpc (none at all for `undefined`). */
const badAuthorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    "", "Bearer", "Bearer ", `Bearer ${SECRETS.cronSecret}`, `Bearer ${admin}x`, `Bearer x${admin}`, `Bearer ${admin.slice(0, -1)}`,
    `Bearer ${admin.toUpperCase()}`, `Basic ${admin}`, `Basic ${btoa(`admin:${admin}`)}`, `Bearer  ${admin}`, `Bearer ${admin} ${admin}`,
    `Token ${admin}`, admin, `Bearer "${admin}"`, `Bearer ${admin},Bearer ${admin}`,
  ),
  hostileString.filter((h) => /^[\t\x20-\x7e]*$/.test(h) && h.trim() !== admin).map((token) => `Bearer ${token}`),
);

const callsOfOneType = fc.constantFrom("query", "mutation").chain((type) => {
  const names = PROCEDURE_NAMES.filter((name) => PROCEDURES[name]!.type === type);
  return fc.array(fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), inputOf(name))), { minLength: 1, maxLength: 3 });
});

describe("fuzz: the admin token guards every procedure", () => {
  test(`${RUNS} generated calls without the admin token: UNAUTHORIZED for each, not one store call`, async () => {
    const bench = await fuzzBench("auth");
    const request = fc.record({
      calls: callsOfOneType, authorization: badAuthorization,
      transport: fc.constantFrom("single", "single", "batch", "jsonl"),
      tokenInQuery: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(request, async ({ calls, authorization, transport, tokenInQuery }) => {
      const headers: Headers = authorization === undefined ? {} : { authorization };
      let req: Request;
      let echo: string;
      if (transport === "single") {
        const [name, input] = calls[0]!;
        echo = input === undefined ? "" : jsonText(input);
        req = trpcCall(name, input === undefined ? undefined : echo, headers);
      } else {
        const input = new Entries(calls.flatMap(([, v], i) => (v === undefined ? [] : [[String(i), v] as [string, unknown]])));
        echo = jsonText(input);
        if (transport === "jsonl") headers["trpc-accept"] = "application/jsonl";
        req = batchCall(calls.map(([name]) => name), echo, PROCEDURES[calls[0]![0]]!.type === "query" ? "GET" : "POST", headers);
      }
      // The admin token in the URL opens nothing either.
      if (tokenInQuery) req = new Request(`${req.url}${req.url.includes("?") ? "&" : "?"}token=${admin}`, req);
      bench.storeCalls.length = 0;
      const answer = await bench.send(req, { echo });
      expect(bench.storeCalls).toEqual([]);
      // A body over the limit is refused unread, before anything else (and so before any database access).
      if (req.method === "POST" && new TextEncoder().encode(echo).length > MAX_BODY_BYTES) {
        expect([answer.status, ...answer.codes]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
        return;
      }
      const expected = transport === "single" ? 1 : calls.length;
      expect(answer.codes).toEqual(Array(expected).fill("UNAUTHORIZED"));
      expect(answer.status).toBe(transport === "jsonl" ? 200 : 401);
    }), runsOf(30, RUNS));
  }, 120_000);

  afterAll(() => {
    expect(requestsSent("auth")).toBeGreaterThanOrEqual(RUNS);
  });
});
