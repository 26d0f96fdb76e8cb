import { defineCommand } from "citty";
import { AppError } from "../../errors.ts";
import { RUN_STATUSES } from "../../lifecycle/lifecycle.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { jobId, pageFlags, pageOf } from "./job-flags.ts";
import { printJson, printMore, printRuns } from "./output.ts";

const STATUSES = RUN_STATUSES;

export default defineCommand({
  meta: { name: "runs", description: "Lists finished runs, newest first (--json: with each run's output)." },
  args: {
    ...connectionArgs,
    job: { type: "string", description: "only the runs of this job id" },
    status: { type: "string", description: `only runs with this status (${STATUSES.join(", ")})` },
    from: { type: "string", description: "only runs finished at or after this ISO time" },
    to: { type: "string", description: "only runs finished before this ISO time" },
    ...pageFlags("runs"),
  },
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const status = args.status as (typeof STATUSES)[number] | undefined;
    if (status !== undefined && !STATUSES.includes(status)) throw new AppError("INVALID_INPUT", `--status must be one of ${STATUSES.join(", ")}`);
    const page = await client.runs.list.query({
      jobId: args.job === undefined ? undefined : jobId(args.job),
      status,
      from: args.from,
      to: args.to,
      ...pageOf(args),
    });
    if (json) return printJson(page);
    printRuns(page.items);
    printMore(page.nextCursor, "app jobs runs");
  }),
});
