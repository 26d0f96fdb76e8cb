/**
 * Properties of `POST /api/cron/run` (SPEC §6) under generated requests: with the secret,
 * any body is a tick (200), a 400 naming the field, or a 413 past 64 KiB, and a refused body
 * changes nothing; without it (or with a secret in the URL, or another method), a 401 or 405
 * that touches no database at all.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { hostileString, jsonText, mutated } from "./arbitraries.ts";
import { fuzzBench, REQUEST_BUDGET, requestsSent, runsOf, SECRETS } from "./harness.ts";
import { cronBodies, expectBodiesGotThrough, validCronBody } from "./properties.ts";
import { cronRun, endlessStream, type Headers } from "./requests.ts";

const BODY_RUNS = 1_800;
const AUTH_RUNS = REQUEST_BUDGET.cronRoute - BODY_RUNS;

describe("fuzz: POST /api/cron/run", () => {
  test(`${BODY_RUNS} generated bodies with the secret: 200, 400 naming the field, or 413; refused ones change nothing`, async () => {
    const bench = await fuzzBench("cronRoute");
    const statuses = new Map<number, number>();
    await fc.assert(cronBodies(bench, statuses), runsOf(10, BODY_RUNS));
    expectBodiesGotThrough(statuses, 0.05);
  }, 120_000);

  test("a body that never ends is refused with 413 once it passes the limit", async () => {
    const bench = await fuzzBench("cronRoute");
    const answer = await bench.send(cronRun({ body: endlessStream() }));
    expect(answer.status).toBe(413);
  });

  test(`${AUTH_RUNS} generated requests without the secret (or with it in the URL, or not a POST): 401 or 405, no database access`, async () => {
    const bench = await fuzzBench("cronRoute");
    const authorization = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom("", "Bearer", "Bearer ", `Bearer ${SECRETS.adminToken}`, `Basic ${btoa(`x:${SECRETS.cronSecret}`)}`, `Bearer  ${SECRETS.cronSecret}`,
        `Bearer ${SECRETS.cronSecret}x`, `Bearer ${SECRETS.cronSecret.slice(0, -1)}`, `Bearer ${SECRETS.cronSecret} ${SECRETS.cronSecret}`,
        `Token ${SECRETS.cronSecret}`, SECRETS.cronSecret, `Bearer ${SECRETS.cronSecret.toUpperCase()}`),
      hostileString.filter((h) => /^[\t\x20-\x7e]*$/.test(h)).map((token) => `Bearer ${token}`),
    );
    const query = fc.oneof(fc.constant(""), fc.constantFrom(`?secret=${SECRETS.cronSecret}`, `?token=${SECRETS.cronSecret}`, "?", "?dryRun=true", `?authorization=Bearer%20${SECRETS.cronSecret}`));
    const request = fc.record({
      authorization, query, method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      body: fc.oneof(fc.constant(undefined), mutated(validCronBody, ["limit", "dryRun"]).map(jsonText)),
    }).filter(({ authorization, query }) => !(authorization === `Bearer ${SECRETS.cronSecret}` && query === ""));
    await fc.assert(fc.asyncProperty(request, async ({ authorization, query, method, body }) => {
      bench.storeCalls.length = 0;
      const withBody = method !== "GET" && method !== "HEAD" && body !== undefined;
      const headers: Headers = authorization === undefined ? {} : { authorization };
      const answer = await bench.send(cronRun({ method, query, headers, ...(withBody ? { body } : {}) }), { echo: `${query} ${body ?? ""}` });
      expect(answer.status).toBe(method === "POST" ? 401 : 405);
      if (method !== "HEAD") expect(answer.codes).toEqual([method === "POST" ? "UNAUTHORIZED" : "METHOD_NOT_ALLOWED"]);
      expect(bench.storeCalls).toEqual([]);
    }), runsOf(11, AUTH_RUNS));
  }, 120_000);

  afterAll(() => {
    expect(requestsSent("cronRoute")).toBeGreaterThanOrEqual(REQUEST_BUDGET.cronRoute);
  });
});
