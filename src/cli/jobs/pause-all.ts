import { defineCommand } from "citty";
import type { Client } from "../../client.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { printJson } from "./output.ts";

/** `app jobs pause-all` / `resume-all`: the switch every server's ticks read (SPEC §5.3.1). */
function pauseSwitch(name: string, description: string, call: (client: Client) => Promise<{ paused: boolean }>, said: string) {
  return defineCommand({
    meta: { name, description },
    args: { ...connectionArgs },
    run: ({ args }) => jobsAction(args, async ({ client, json }) => {
      const result = await call(client);
      if (json) return printJson(result);
      process.stdout.write(`${said}\n`);
    }),
  });
}

export const pauseAll = pauseSwitch("pause-all", "Pauses all jobs: no server claims any until resume-all (held in the database).",
  (c) => c.jobs.pauseAll.mutate(), "all jobs paused: ticks claim nothing until `app jobs resume-all`");
export const resumeAll = pauseSwitch("resume-all", "Ends pause-all; jobs paused one by one stay paused.",
  (c) => c.jobs.resumeAll.mutate(), "all jobs resumed (jobs paused one by one stay paused)");
