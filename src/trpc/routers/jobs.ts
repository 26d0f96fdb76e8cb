import { JOB_STATES } from "../../lifecycle/lifecycle.ts";
import { z } from "zod";
import { addScheduleIssues, instantField, jobFields, jobPatchFields } from "../../jobs/job-input.ts";
import { changeView, jobView } from "../../jobs/job-view.ts";
import { PREVIEW_COUNT, PREVIEW_MAX_COUNT, previewSchedule } from "../../schedule/preview.ts";
import { storableText } from "../../validation.ts";
import { adminProcedure, router } from "../init.ts";

const id = z.int("must be a job id").positive("must be a job id");
const byId = z.strictObject({ id });

export const pageFields = {
  /** Page size (default 50, at most 500). */
  limit: z.int().min(1).max(500).optional(),
  /** `nextCursor` of the previous page. */
  cursor: z.int().positive().nullish(),
};

const listInput = z.strictObject({
  ...pageFields,
  active: z.boolean().optional(),
  state: z.enum(JOB_STATES).optional(),
  jobType: storableText(z.string().min(1)).optional(),
  /** A user id, or null for the jobs of no user. */
  userId: z.int().positive().nullable().optional(),
  dueBefore: instantField.optional(),
  /** Part of the name, case-insensitive. */
  search: storableText(z.string().min(1).max(200)).optional(),
}).optional();

const changesInput = z.strictObject({
  ...pageFields,
  /** The changes of one job (also once it is deleted). */
  jobId: id.optional(),
}).optional();

/** A schedule to preview: the schedule fields of a job, and how many start times to list. */
const previewInput = z.strictObject({
  runAt: jobFields.shape.runAt,
  intervalMinutes: jobFields.shape.intervalMinutes,
  cron: jobFields.shape.cron,
  timezone: jobFields.shape.timezone,
  count: z.int("must be a whole number").min(1, "must be at least 1").max(PREVIEW_MAX_COUNT, `must be at most ${PREVIEW_MAX_COUNT}`).optional(),
}).transform((input) => ({ runAt: input.runAt ?? null, intervalMinutes: input.intervalMinutes ?? null, cron: input.cron ?? null, timezone: input.timezone ?? null, count: input.count }))
  .superRefine(addScheduleIssues);

export const jobsRouter = router({
  /** Jobs, newest first, by pages: `{ items, nextCursor }`. */
  list: adminProcedure.input(listInput).query(async ({ ctx, input = {} }) => {
    const { limit = 50, cursor, ...filters } = input;
    const page = await ctx.plane.jobs.list({ limit, cursor: cursor ?? undefined, ...filters });
    const now = ctx.plane.clock.now();
    return { items: page.items.map((job) => jobView(job, now)), nextCursor: page.nextCursor };
  }),
  get: adminProcedure.input(byId).query(async ({ ctx, input }) => jobView(await ctx.plane.jobs.get(input.id), ctx.plane.clock.now())),
  create: adminProcedure.input(jobFields).mutation(async ({ ctx, input }) =>
    jobView(await ctx.plane.jobs.create(input, ctx.actor), ctx.plane.clock.now())),
  /** Creates the job, or replaces the one with the same `(name, userId)`. */
  upsert: adminProcedure.input(jobFields).mutation(async ({ ctx, input }) =>
    jobView(await ctx.plane.jobs.upsert(input, ctx.actor), ctx.plane.clock.now())),
  update: adminProcedure.input(jobPatchFields.extend({ id })).mutation(async ({ ctx, input: { id, ...patch } }) =>
    jobView(await ctx.plane.jobs.update(id, patch, ctx.actor), ctx.plane.clock.now())),
  /** Deletes the job; a run still going finishes and is recorded in the history. */
  delete: adminProcedure.input(byId).mutation(({ ctx, input }) => ctx.plane.jobs.delete(input.id, ctx.actor)),
  pause: adminProcedure.input(byId).mutation(async ({ ctx, input }) => jobView(await ctx.plane.jobs.pause(input.id, ctx.actor), ctx.plane.clock.now())),
  resume: adminProcedure.input(byId).mutation(async ({ ctx, input }) => jobView(await ctx.plane.jobs.resume(input.id, ctx.actor), ctx.plane.clock.now())),
  /**
   * Stops the job's running run (SPEC §5.3.2), whichever server runs it: answers the job as marked;
   * the run is aborted within a second and recorded `cancelled`. `CONFLICT` when it is not running.
   */
  cancel: adminProcedure.input(byId).mutation(async ({ ctx, input }) => jobView(await ctx.plane.jobs.cancel(input.id, ctx.actor), ctx.plane.clock.now())),
  /** Runs the job now through the same claim as a tick (never beside a scheduled run); answers the run. */
  runNow: adminProcedure.input(byId).mutation(({ ctx, input }) => ctx.plane.runner.runNow(input.id, ctx.actor)),
  /**
   * A schedule in words and its next start times (UTC ISO in `next`, the zone's wall clock in
   * `nextLocal`), as a job created now with it would start; nothing is saved.
   */
  preview: adminProcedure.input(previewInput).query(({ ctx, input: { count = PREVIEW_COUNT, ...schedule } }) =>
    previewSchedule(schedule, ctx.plane.clock.now(), count)),
  /** Pause all: every tick, on every server, claims nothing until `resumeAll` (held in the database). */
  pauseAll: adminProcedure.mutation(({ ctx }) => ctx.plane.jobs.pauseAll(ctx.actor)),
  /** Ends pause all; jobs paused one by one stay paused. */
  resumeAll: adminProcedure.mutation(({ ctx }) => ctx.plane.jobs.resumeAll(ctx.actor)),
  /** Whether all jobs are paused: `{ paused }`. */
  pausedAll: adminProcedure.query(async ({ ctx }) => ({ paused: await ctx.plane.jobs.pausedAll() })),
  /** Re-activates a dead or failing job: failures cleared, due now. */
  retry: adminProcedure.input(byId).mutation(async ({ ctx, input }) => jobView(await ctx.plane.jobs.retry(input.id, ctx.actor), ctx.plane.clock.now())),
  /**
   * The audit log (SPEC §2), newest first, by pages: who changed what, when. `before`/`after`
   * hold the fields each change altered. Viewers may read it.
   */
  changes: adminProcedure.input(changesInput).query(async ({ ctx, input = {} }) => {
    const { limit = 50, cursor, jobId } = input;
    const page = await ctx.plane.jobs.listChanges({ limit, cursor: cursor ?? undefined, jobId });
    return { items: page.items.map(changeView), nextCursor: page.nextCursor };
  }),
});
