/** Run output (SPEC §3.2) and `jobs.cancel` (SPEC §5.3.2) through the tRPC router. */
import { describe, expect, test } from "bun:test";
import type { CronJob } from "../../src/jobs/cron-job.ts";
import { createControlPlane } from "../../src/trpc/context.ts";
import { createCaller } from "../../src/trpc/router.ts";
import { freshCaller, rejects } from "./support.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

/** A job that writes `lines` with `ctx.log`. */
function saying(type: string, lines: string[]): CronJob {
  return { type, description: `Says ${lines.length} lines.`, async run({ log }) { for (const line of lines) log(line); } };
}

/** Splits `… [N bytes truncated]` off an output. */
function truncation(output: string): { kept: string; dropped: number } {
  const match = /… \[(\d+) bytes truncated\]$/.exec(output);
  expect(match).not.toBeNull();
  return { kept: output.slice(0, match!.index), dropped: Number(match![1]) };
}

describe("run output through runs.list", () => {
  test("the lines a job logs, in order, one per call; a job that says nothing has no output", async () => {
    const { caller } = freshCaller([saying("chatty", ["fetched 3 feeds", "  indented <b>&amp;</b>", "done"]), saying("quiet", [])]);
    const chatty = await caller.jobs.create({ name: "chatty", jobType: "chatty", intervalMinutes: 5 });
    const quiet = await caller.jobs.create({ name: "quiet", jobType: "quiet", intervalMinutes: 5 });
    expect(await caller.jobs.runNow({ id: chatty.id })).toMatchObject({ status: "succeeded", output: "fetched 3 feeds\n  indented <b>&amp;</b>\ndone" });
    const silent = await caller.jobs.runNow({ id: quiet.id });
    expect(silent.status).toBe("succeeded");
    expect(silent).not.toHaveProperty("output");
    const { items } = await caller.runs.list({});
    expect(items.map((r) => [r.name, r.output])).toEqual([["quiet", null], ["chatty", "fetched 3 feeds\n  indented <b>&amp;</b>\ndone"]]);
  });

  test("a 1 MiB log is capped at 64 KiB: the start kept, the rest counted in the marker", async () => {
    const line = "x".repeat(1023);
    const { caller } = freshCaller([saying("loud", Array.from({ length: 1024 }, () => line))]);
    const job = await caller.jobs.create({ name: "loud", jobType: "loud", intervalMinutes: 5 });
    await caller.jobs.runNow({ id: job.id });
    const [run] = (await caller.runs.list({ jobId: job.id })).items;
    const { kept, dropped } = truncation(run!.output!);
    // 1,024 lines of 1,024 bytes (newline included): 64 of them fit, the other 960 are counted.
    expect(bytes(kept)).toBe(64 * 1024);
    expect(kept).toBe(`${line}\n`.repeat(64));
    expect(dropped).toBe(1024 * 1024 - 64 * 1024);
  });

  test("one huge line is cut at a character boundary, never inside a character", async () => {
    const { caller } = freshCaller([saying("euros", ["€".repeat(30_000)])]);
    const job = await caller.jobs.create({ name: "euros", jobType: "euros", intervalMinutes: 5 });
    await caller.jobs.runNow({ id: job.id });
    const [run] = (await caller.runs.list({ jobId: job.id })).items;
    const { kept, dropped } = truncation(run!.output!);
    // 3 bytes a character: 21,845 of them (65,535 bytes) fit in 64 KiB.
    expect(kept).toBe("€".repeat(21_845));
    expect(dropped).toBe(3 * 30_000 + 1 - 65_535);
    expect(kept).not.toContain("\uFFFD");
  });
});

describe("jobs.cancel", () => {
  /** A job whose run waits on its signal, and says when it started. */
  function waiter() {
    const started = Promise.withResolvers<void>();
    const job: CronJob = {
      type: "waiter", description: "Waits until aborted.",
      run: ({ signal }) => new Promise((_, reject) => {
        started.resolve();
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    };
    return { job, started: started.promise };
  }

  test("a running job: answers the job marked, the run is recorded cancelled, runs.list filters on it", async () => {
    const wait = waiter();
    const { caller } = freshCaller([wait.job]);
    const job = await caller.jobs.create({ name: "slow", jobType: "waiter", intervalMinutes: 5 });
    const running = caller.jobs.runNow({ id: job.id });
    await wait.started;
    const marked = await caller.jobs.cancel({ id: job.id });
    expect(marked).toMatchObject({ id: job.id, state: "running" });
    expect(marked.cancelRequestedAt).not.toBeNull();
    expect(await running).toMatchObject({ id: job.id, status: "cancelled", error: "cancelled" });
    const after = await caller.jobs.get({ id: job.id });
    expect(after).toMatchObject({ state: "active", cancelRequestedAt: null, lockedBy: null, attempts: 0 });
    expect((await caller.runs.list({ status: "cancelled" })).items).toEqual([expect.objectContaining({ jobId: job.id, status: "cancelled" })]);
    expect((await caller.runs.list({ status: "succeeded" })).items).toEqual([]);
  });

  test("not running → CONFLICT, missing → NOT_FOUND, a bad id → BAD_REQUEST naming it; a viewer may not cancel", async () => {
    const wait = waiter();
    const env = freshCaller([wait.job]);
    const { caller } = env;
    const job = await caller.jobs.create({ name: "idle", jobType: "noop", intervalMinutes: 5 });
    await rejects(caller.jobs.cancel({ id: job.id }), "CONFLICT", `job ${job.id} is not running (it is active)`);
    await caller.jobs.pause({ id: job.id });
    await rejects(caller.jobs.cancel({ id: job.id }), "CONFLICT", "(it is paused)");
    await rejects(caller.jobs.cancel({ id: 424242 }), "NOT_FOUND", "job 424242 does not exist");
    await rejects(caller.jobs.cancel({ id: 0 }), "BAD_REQUEST", "id");

    const viewerToken = "viewer-token-0123456789abcdef";
    const plane = createControlPlane({ ...env.deps, secrets: { ...env.deps.secrets, viewerToken: `carol:${viewerToken}` } });
    const viewer = createCaller({ plane, token: viewerToken });
    const slow = await caller.jobs.create({ name: "slow", jobType: "waiter", intervalMinutes: 5 });
    const running = caller.jobs.runNow({ id: slow.id });
    await wait.started;
    await rejects(viewer.jobs.cancel({ id: slow.id }), "FORBIDDEN");
    expect((await caller.jobs.get({ id: slow.id })).cancelRequestedAt).toBeNull();
    await caller.jobs.cancel({ id: slow.id });
    expect((await running).status).toBe("cancelled");
  });
});
