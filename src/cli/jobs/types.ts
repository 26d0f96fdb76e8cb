import { defineCommand } from "citty";
import { connectionArgs, jobsAction } from "./connect.ts";
import { printJson, printTable } from "./output.ts";

export default defineCommand({
  meta: { name: "types", description: "Lists the job types the server knows, with their payload schema." },
  args: connectionArgs,
  run: ({ args }) => jobsAction(args, async ({ client, json }) => {
    const types = await client.jobTypes.list.query();
    if (json) return printJson(types);
    printTable(["TYPE", "DESCRIPTION", "PAYLOAD"], types.map((t) => [t.type, t.description, t.payloadSchema ? JSON.stringify(t.payloadSchema) : "none"]), 100);
  }),
});
