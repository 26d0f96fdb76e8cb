import { defineCommand } from "citty";
import { AppError } from "../../errors.ts";
import { JOB_STATES } from "../../lifecycle/lifecycle.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { pageFlags, pageOf, when } from "./job-flags.ts";
import { printJobs, printJson, printMore } from "./output.ts";

const STATES = JOB_STATES;

export default defineCommand({
  meta: { name: "list", description: "Lists jobs, newest first." },
  args: {
    ...connectionArgs,
    state: { type: "string", description: `only jobs in this state (${STATES.join(", ")})` },
    type: { type: "string", description: "only jobs of this job type" },
    user: { type: "string", description: "only the jobs of this user id (`none`: jobs of no user)" },
    "due-before": { type: "string", description: "only active jobs due by this time (ISO, or +30s, +5m, +2h, +1d)" },
    search: { type: "string", description: "only jobs whose name contains this" },
    ...pageFlags("jobs"),
  },
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const state = args.state as (typeof STATES)[number] | undefined;
    if (state !== undefined && !STATES.includes(state)) throw new AppError("INVALID_INPUT", `--state must be one of ${STATES.join(", ")}`);
    const page = await client.jobs.list.query({
      state,
      jobType: args.type,
      userId: args.user === undefined ? undefined : args.user === "none" ? null : Number(args.user),
      dueBefore: args["due-before"] === undefined ? undefined : when(args["due-before"]) as string,
      search: args.search,
      ...pageOf(args),
    });
    if (json) return printJson(page);
    printJobs(page.items);
    printMore(page.nextCursor, "app jobs list");
  }),
});
