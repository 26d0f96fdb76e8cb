/**
 * Generated inputs to every procedure of the control plane, as the admin, on SQLite (the
 * property is `procedureInputs`; test/fuzz/postgres.test.ts runs a share on PostgreSQL).
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fuzzBench, REQUEST_BUDGET, requestsSent, runsOf } from "./harness.ts";
import { PROCEDURE_NAMES, routerProcedureNames } from "./procedures.ts";
import { procedureInputs } from "./properties.ts";

const RUNS = REQUEST_BUDGET.trpcInputs;

describe("fuzz: procedure inputs", () => {
  test("the table of procedures covers the whole router", () => {
    expect([...PROCEDURE_NAMES].sort()).toEqual(routerProcedureNames());
  });

  test(`${RUNS} generated inputs across every procedure: below 500, no leak, refused ones and queries change nothing`, async () => {
    const bench = await fuzzBench("trpcInputs");
    await fc.assert(procedureInputs(bench), runsOf(1, RUNS));
  }, 120_000);

  afterAll(() => {
    expect(requestsSent("trpcInputs")).toBeGreaterThanOrEqual(RUNS);
  });
});
