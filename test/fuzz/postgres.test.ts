/**
 * A smaller share of the same properties on PostgreSQL (SPEC §9: the same guarantees on both
 * backends), where text and time have rules SQLite does not have. Extra to the 10,000
 * requests on SQLite; skipped when no PostgreSQL server answers.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { postgresAvailable } from "../support/backends.ts";
import { fuzzBench, requestsSent, runsOf } from "./harness.ts";
import { cronBodies, expectBodiesGotThrough, expectInputsGotThrough, procedureInputs, type InputTally } from "./properties.ts";

const INPUT_RUNS = 500;
const BODY_RUNS = 150;

describe.skipIf(!postgresAvailable)("fuzz on PostgreSQL", () => {
  test(`${INPUT_RUNS} generated procedure inputs`, async () => {
    const bench = await fuzzBench("postgres", "postgres");
    const tally: InputTally = new Map();
    await fc.assert(procedureInputs(bench, tally), runsOf(40, INPUT_RUNS));
    expectInputsGotThrough(tally, 0); // a smaller sample: at least one of each procedure's inputs got through
  }, 120_000);

  test(`${BODY_RUNS} generated bodies of POST /api/cron/run`, async () => {
    const bench = await fuzzBench("postgres", "postgres");
    const statuses = new Map<number, number>();
    await fc.assert(cronBodies(bench, statuses), runsOf(41, BODY_RUNS));
    expectBodiesGotThrough(statuses, 0.05);
  }, 120_000);

  afterAll(() => {
    expect(requestsSent("postgres")).toBeGreaterThanOrEqual(INPUT_RUNS + BODY_RUNS);
  });
});
