/**
 * Generated inputs to every procedure of the control plane, as the admin, on SQLite (the
 * property is `procedureInputs`; test/fuzz/postgres.test.ts runs a share on PostgreSQL).
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fuzzBench, REQUEST_BUDGET, requestsSent, runsOf } from "./harness.ts";
import { PROCEDURE_NAMES, routerProcedureNames } from "./procedures.ts";
import { expectInputsGotThrough, procedureInputs, type InputTally } from "./properties.ts";

const RUNS = REQUEST_BUDGET.trpcInputs;

describe("fuzz: procedure inputs", () => {
  test("the table of procedures covers the whole router", () => {
    expect([...PROCEDURE_NAMES].sort()).toEqual(routerProcedureNames());
  });

  test(`${RUNS} generated inputs across every procedure: below 500, no leak, refused ones and queries change nothing`, async () => {
    const bench = await fuzzBench("trpcInputs");
    const tally: InputTally = new Map();
    await fc.assert(procedureInputs(bench, tally), runsOf(1, RUNS));
    // Today each procedure lets through 8-100% of its inputs (users.confirm the fewest: a token is never guessed).
    expectInputsGotThrough(tally, 0.05);
  }, 120_000);

  afterAll(() => {
    expect(requestsSent("trpcInputs")).toBeGreaterThanOrEqual(RUNS);
  });
});
