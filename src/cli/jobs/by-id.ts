import { defineCommand } from "citty";
import type { Client, JobView } from "../../client.ts";
import { EXIT } from "../action.ts";
import { connectionArgs, jobsAction } from "./connect.ts";
import { jobId } from "./job-flags.ts";
import { escapeControl } from "../../text/escape.ts";
import { printJob, printJson, printOutput } from "./output.ts";

/** A command that acts on one job by id and prints what the server answered. */
function byId<T>(name: string, description: string, call: (client: Client, id: number) => Promise<T>, print: (result: T) => number | void) {
  return defineCommand({
    meta: { name, description },
    args: { ...connectionArgs, id: { type: "positional", required: true, description: "job id" } },
    run: ({ args }) => jobsAction(args, async ({ client, json }) => {
      const result = await call(client, jobId(args.id));
      if (json) {
        printJson(result);
        return name === "run" && (result as { status?: string }).status !== "succeeded" ? EXIT.FAILED : EXIT.OK;
      }
      return print(result);
    }),
  });
}

const showJob = (job: JobView) => printJob(job);

export const get = byId("get", "Shows one job.", (c, id) => c.jobs.get.query({ id }), showJob);
export const pause = byId("pause", "Pauses a job (it keeps its schedule).", (c, id) => c.jobs.pause.mutate({ id }), showJob);
export const resume = byId("resume", "Resumes a paused job; a recurring one waits for its next slot.", (c, id) => c.jobs.resume.mutate({ id }), showJob);
export const retry = byId("retry", "Re-activates a dead or failing job: failures cleared, due now.", (c, id) => c.jobs.retry.mutate({ id }), showJob);

export const rm = byId("rm", "Deletes a job (a run still going finishes and is recorded).", (c, id) => c.jobs.delete.mutate({ id }), (r) => {
  process.stdout.write(`deleted job ${r.id}${r.wasRunning ? " (its current run will finish and be recorded)" : ""}\n`);
});

/** Exit 1 when the run did not succeed, as `app cron-runner` does. The run's output follows its result. */
export const run = byId("run", "Runs a job now, through the same claim as a tick, and shows its output; exit 1 if the run fails.", (c, id) => c.jobs.runNow.mutate({ id }), (r) => {
  process.stdout.write(`${escapeControl(`job ${r.id} (${r.name}): ${r.status} in ${r.durationMs} ms${r.error ? `: ${r.error}` : ""}`)}\n`);
  if (r.output) printOutput(r.output);
  return r.status === "succeeded" ? EXIT.OK : EXIT.FAILED;
});

export const cancel = byId("cancel", "Stops the job's running run (on whichever server runs it); it is recorded cancelled.", (c, id) => c.jobs.cancel.mutate({ id }), (job) => {
  process.stdout.write(`${escapeControl(`cancel requested: the run of job ${job.id} (${job.name}) stops within a second and is recorded cancelled`)}\n`);
});
