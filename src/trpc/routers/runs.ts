import { z } from "zod";
import { instantField } from "../../jobs/job-input.ts";
import { runView } from "../../jobs/job-view.ts";
import { RUN_STATUSES } from "../../lifecycle/lifecycle.ts";
import { adminProcedure, router } from "../init.ts";
import { pageFields } from "./jobs.ts";

const listInput = z.strictObject({
  ...pageFields,
  jobId: z.int().positive().optional(),
  status: z.enum(RUN_STATUSES).optional(),
  /** Runs finished at or after this time. */
  from: instantField.optional(),
  /** Runs finished before this time. */
  to: instantField.optional(),
}).optional();

export const runsRouter = router({
  /** The run history, newest first, by pages: `{ items, nextCursor }`. */
  list: adminProcedure.input(listInput).query(async ({ ctx, input = {} }) => {
    const { limit = 50, cursor, ...filters } = input;
    const page = await ctx.plane.jobs.listRuns({ limit, cursor: cursor ?? undefined, ...filters });
    return { items: page.items.map(runView), nextCursor: page.nextCursor };
  }),
});
