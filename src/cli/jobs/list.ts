import { defineCommand } from "citty";
import { AppError } from "../../errors.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { when } from "./job-flags.ts";
import { printJobs, printJson, printMore } from "./output.ts";

const STATES = ["active", "paused", "dead", "running"] as const;

export default defineCommand({
  meta: { name: "list", description: "Lists jobs, newest first." },
  args: {
    ...connectionArgs,
    state: { type: "string", description: `only jobs in this state (${STATES.join(", ")})` },
    type: { type: "string", description: "only jobs of this job type" },
    user: { type: "string", description: "only the jobs of this user id (`none`: jobs of no user)" },
    "due-before": { type: "string", description: "only active jobs due by this time (ISO, or +30s, +5m, +2h, +1d)" },
    search: { type: "string", description: "only jobs whose name contains this" },
    limit: { type: "string", description: "jobs per page (default 50)" },
    cursor: { type: "string", description: "the page after this cursor (printed under a full page)" },
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
      limit: args.limit === undefined ? undefined : Number(args.limit),
      cursor: args.cursor === undefined ? undefined : Number(args.cursor),
    });
    if (json) return printJson(page);
    printJobs(page.items);
    printMore(page.nextCursor, "app jobs list");
  }),
});
