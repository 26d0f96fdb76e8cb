import { defineCommand } from "citty";
import type { RouterInputs } from "../../client.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { jobFlags, jobInputFromFlags } from "./job-flags.ts";
import { printJson, printSchedulePreview } from "./output.ts";

export default defineCommand({
  meta: { name: "preview", description: "Shows a schedule in words and its next start times, in UTC and in its zone (one of --run-at, --every, --cron); saves nothing." },
  args: {
    ...connectionArgs,
    "run-at": jobFlags["run-at"],
    every: jobFlags.every,
    cron: jobFlags.cron,
    tz: jobFlags.tz,
    count: { type: "string", description: "how many start times (default 5, at most 50)" },
  },
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const count = args.count === undefined ? undefined : /^\d+$/.test(args.count.trim()) ? Number(args.count) : args.count;
    const input = { ...jobInputFromFlags(args), ...(count === undefined ? {} : { count }) } as RouterInputs["jobs"]["preview"];
    const preview = await client.jobs.preview.query(input);
    if (json) return printJson(preview);
    printSchedulePreview(preview);
  }),
});
