import { defineCommand } from "citty";
import type { RouterInputs } from "../../client.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { jobFlags, jobId, jobInputFromFlags, switchSchedule } from "./job-flags.ts";
import { printJob, printJson } from "./output.ts";

export default defineCommand({
  meta: { name: "update", description: "Changes the given fields of a job; a new schedule (--cron or --every replaces the other) takes effect at once." },
  args: {
    ...connectionArgs,
    id: { type: "positional", required: true, description: "job id" },
    name: { type: "string", description: "new name" },
    ...jobFlags,
  },
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const input = { id: jobId(args.id), ...(args.name === undefined ? {} : { name: args.name }), ...switchSchedule(jobInputFromFlags(args)) } as RouterInputs["jobs"]["update"];
    const job = await client.jobs.update.mutate(input);
    if (json) return printJson(job);
    printJob(job);
  }),
});
