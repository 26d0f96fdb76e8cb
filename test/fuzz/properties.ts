/**
 * The properties run on both backends: generated procedure inputs (as the admin) and
 * generated bodies of `POST /api/cron/run` (with the secret). Each answers a fast-check
 * property over a bench; the test files choose the backend, the seed and the number of runs.
 */
import { expect } from "bun:test";
import fc from "fast-check";
import { MAX_BODY_BYTES } from "../../src/server/cron-route.ts";
import { CONTENT_TYPES, hostileValue, jsonText, mutated, withInvalidUtf8 } from "./arbitraries.ts";
import { SECRETS, type FuzzBench } from "./harness.ts";
import { inputOf, PROCEDURE_NAMES, PROCEDURES } from "./procedures.ts";
import { cronRun, streamOf, trpcCall, type Headers } from "./requests.ts";

/**
 * Any input to any procedure: answered below 500, without a stack trace, as JSON with an
 * error code when refused; a refused call and every query leave the database as it was; an
 * accepted job or user reads back as it was given (no text silently altered on the way).
 */
export function procedureInputs(bench: FuzzBench, tally: InputTally = new Map()) {
  const call = fc.constantFrom(...PROCEDURE_NAMES).chain((procedure) => fc.tuple(fc.constant(procedure), inputOf(procedure)));
  return fc.asyncProperty(call, async ([procedure, input]) => {
    const text = input === undefined ? undefined : jsonText(input);
    const query = PROCEDURES[procedure]!.type === "query";
    const answer = await bench.send(trpcCall(procedure, text), { echo: text ?? "", readOnly: query });
    const counts = tally.get(procedure) ?? { sent: 0, accepted: 0, valid: 0 };
    tally.set(procedure, counts);
    counts.sent++;
    if (!answer.rejected) counts.accepted++;
    if (!answer.rejected || !answer.codes.includes("BAD_REQUEST")) counts.valid++;
    if (answer.rejected) return;
    // Accepted: what was stored is what was given (no text silently altered on the way).
    const data = (answer.body as { result: { data: Record<string, unknown> } }).result.data;
    const given = () => JSON.parse(text!) as Record<string, unknown>;
    if (["jobs.create", "jobs.upsert", "jobs.update"].includes(procedure)) {
      const input = given();
      for (const key of ["name", "jobType", "cron", "timezone"] as const) {
        if (typeof input[key] === "string") expect(data[key], `${procedure} ${key}`).toBe((input[key] as string).trim());
      }
      if (input.payload !== undefined) expect(data.payload).toEqual(input.payload);
    }
    if (procedure === "users.register") expect((data.user as { email: string }).email).toBe((given().email as string).trim().toLowerCase());
  });
}

/**
 * Per procedure: inputs sent, inputs it accepted (answered with a result), and inputs that
 * passed its validation (accepted, or refused for what they name: NOT_FOUND, CONFLICT, ...).
 */
export type InputTally = Map<string, { sent: number; accepted: number; valid: number }>;

/**
 * A property that returns early on every refused input would pass against a validator that
 * refuses everything: each procedure must have let through more than `minValidShare` of its
 * inputs (at least one), and the procedures whose accepted answers the property checks
 * further must have accepted some outright.
 */
export function expectInputsGotThrough(tally: InputTally, minValidShare: number): void {
  const checked = ["jobs.create", "jobs.upsert", "jobs.update", "users.register"];
  const shares = PROCEDURE_NAMES.map((procedure) => {
    const { sent, accepted, valid } = tally.get(procedure) ?? { sent: 0, accepted: 0, valid: 0 };
    return { procedure, sent, accepted, valid };
  });
  const short = shares.filter((s) => s.valid === 0 || s.valid < minValidShare * s.sent || (checked.includes(s.procedure) && s.accepted === 0));
  expect(short, `procedures whose generated inputs (almost) never got through: ${JSON.stringify(shares)}`).toEqual([]);
}

/** A generated body: its bytes (or a stream of `size` bytes), and what it is, for the report. */
interface Body {
  kind: string;
  bytes?: Uint8Array<ArrayBuffer>;
  stream?: number;
  [fc.toStringMethod](): string;
}
const body = (kind: string, bytes?: Uint8Array<ArrayBuffer>, stream?: number): Body => ({
  kind, bytes, stream,
  [fc.toStringMethod]: () => `${kind}:${stream ?? new TextDecoder().decode(bytes?.subarray(0, 200))}`,
});
const utf8 = (text: string) => new TextEncoder().encode(text);

export const validCronBody = fc.record({ limit: fc.integer({ min: 1, max: 100_000 }), dryRun: fc.boolean() }, { requiredKeys: [] });
const bodies: fc.Arbitrary<Body> = fc.oneof(
  { weight: 8, arbitrary: mutated(validCronBody, ["limit", "dryRun"]).map((v) => body("json", utf8(jsonText(v)))) },
  { weight: 2, arbitrary: hostileValue.map((v) => body("value", utf8(jsonText(v)))) },
  { weight: 2, arbitrary: withInvalidUtf8(mutated(validCronBody, ["limit", "dryRun"]).map(jsonText)).map((b) => body("not utf-8", b)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => body("bytes", b)) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\n\t", "\ufeff{}", "null", "{}", "[]", '""', "0", "{\"limit\":1,}").map((t) => body("short", utf8(t))) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }).map((n) => body("oversized", utf8(`{"limit":1,"pad":"${"x".repeat(n)}"}`))) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 * MAX_BODY_BYTES }).map((n) => body("stream", undefined, n)) },
);

/** A route that refused every body would pass `cronBodies`: at least `minShare` of them must have been ticks (200). */
export function expectBodiesGotThrough(statuses: Map<number, number>, minShare: number): void {
  const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
  const ticks = statuses.get(200) ?? 0;
  expect({ ticks, enough: ticks > 0 && ticks >= minShare * sent }, `answers by status: ${JSON.stringify([...statuses])}`).toEqual({ ticks, enough: true });
}

/** Any body with the secret: a tick (200), a 400 naming the field, or a 413 past 64 KiB; a refused one changes nothing. */
export function cronBodies(bench: FuzzBench, statuses: Map<number, number> = new Map()) {
  const request = fc.record({ body: bodies, contentType: fc.constantFrom(...CONTENT_TYPES), minutes: fc.constantFrom(0, 0, 0, 1, 5, 61) });
  return fc.asyncProperty(request, async ({ body, contentType, minutes }) => {
    bench.clock.advance(minutes * 60_000); // so that recurring jobs come due again now and then
    const headers: Headers = { authorization: `Bearer ${SECRETS.cronSecret}`, ...(contentType === undefined ? {} : { "content-type": contentType }) };
    const size = body.stream ?? body.bytes!.length;
    const echo = body.bytes ? new TextDecoder().decode(body.bytes) : "";
    const dryRun = (() => { try { return JSON.parse(echo)?.dryRun === true; } catch { return false; } })();
    const answer = await bench.send(cronRun({ headers, body: body.stream === undefined ? body.bytes : streamOf(body.stream) }), { echo, readOnly: dryRun });
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    expect([200, 400, 413]).toContain(answer.status);
    if (size > MAX_BODY_BYTES) expect(answer.status).toBe(413);
    if (answer.status === 400) expect(answer.codes).toEqual(["INVALID_INPUT"]);
    if (answer.status === 200) expect(Object.keys(answer.body as object)).toContain("runId");
  });
}
