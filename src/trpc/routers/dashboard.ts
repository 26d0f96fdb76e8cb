import { z } from "zod";
import { AppError } from "../../errors.ts";
import { readHealth, readRunChart, readStrips, readTestsPage } from "../../reads/dashboard-reads.ts";
import { adminProcedure, router } from "../init.ts";

/**
 * The dashboard's read models (runs per hour, job strips, health, the tests page): procedures
 * of the one control plane under `/trpc`, with the same tokens (viewers may call them all:
 * they only read) and the same error mapping.
 */
export const dashboardRouter = router({
  /** Jobs by state, as `/metrics` counts them. */
  summary: adminProcedure.query(({ ctx }) => ctx.plane.store.stats(ctx.plane.clock.now())),
  /** Runs per hour over the last 24 hours (one GROUP BY), and the last runs of the jobs that ran most recently. */
  runsOverview: adminProcedure.input(z.strictObject({ strips: z.int().min(0).max(50).optional() }).optional()).query(async ({ ctx, input }) => {
    const { store, clock } = ctx.plane;
    const [chart, strips] = await Promise.all([readRunChart(store, clock.now()), readStrips(store, { jobs: input?.strips ?? 12 })]);
    return { chart, strips };
  }),
  health: adminProcedure.query(({ ctx }) => readHealth(ctx.plane, ctx.plane.startedAt)),
  /** The tests status page written by `app tests-cronjob-runner`. */
  testsPage: adminProcedure.query(({ ctx }) => {
    const html = readTestsPage(ctx.plane.freshnessDir);
    if (html === null) throw new AppError("NOT_FOUND", "no tests page yet: app tests-cronjob-runner has not finished a run");
    return { html };
  }),
});
