import { defineCommand } from "citty";
import { summarizeChange } from "../../text/change-summary.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { jobId, pageFlags, pageOf } from "./job-flags.ts";
import { printJson, printMore, printTable, time } from "./output.ts";

/** `app jobs changes`: the audit log (SPEC §2), newest first. */
export default defineCommand({
  meta: { name: "changes", description: "Lists the audit log, newest first: who changed which job, when, and what (--json: before/after of each)." },
  args: {
    ...connectionArgs,
    job: { type: "string", description: "only the changes of this job id (also once it is deleted)" },
    ...pageFlags("changes"),
  },
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const page = await client.jobs.changes.query({ jobId: args.job === undefined ? undefined : jobId(args.job), ...pageOf(args) });
    if (json) return printJson(page);
    // Cells are escaped by printTable: a name or payload with control characters stays one line.
    printTable(["TIME", "JOB", "ACTION", "ACTOR", "WHAT CHANGED"], page.items.map((c) => [
      time(c.at), c.jobId === null ? "all" : String(c.jobId), c.action, c.actor, summarizeChange(c),
    ]), 100);
    printMore(page.nextCursor, args.job === undefined ? "app jobs changes" : `app jobs changes --job ${jobId(args.job)}`);
  }),
});
