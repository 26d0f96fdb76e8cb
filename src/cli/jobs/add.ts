import { defineCommand } from "citty";
import type { RouterInputs } from "../../client.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { jobFlags, jobInputFromFlags } from "./job-flags.ts";
import { printJob, printJson } from "./output.ts";

export default defineCommand({
  meta: { name: "add", description: "Adds a job (one of --run-at, --every, --cron); --upsert replaces the one with the same name and user." },
  args: {
    ...connectionArgs,
    name: { type: "positional", required: true, description: "job name (with the user, unique)" },
    ...jobFlags,
    paused: { type: "boolean", description: "add it paused" },
    upsert: { type: "boolean", description: "replace the job with the same name and user, if any" },
  },
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const input = { name: args.name, ...jobInputFromFlags(args), ...(args.paused ? { isActive: false } : {}) } as RouterInputs["jobs"]["create"];
    const job = args.upsert ? await client.jobs.upsert.mutate(input) : await client.jobs.create.mutate(input);
    if (json) return printJson(job);
    printJob(job);
  }),
});
