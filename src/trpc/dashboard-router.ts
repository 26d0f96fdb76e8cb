/**
 * The dashboard's own procedures, under `/api/dashboard`: read models of the page (runs per
 * hour, job strips, health) that are not part of the public control plane (`AppRouter`).
 * Same rules as `/trpc`: an admin or viewer token on every call (all of them read), errors
 * mapped in one place.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { TokenTable } from "../secrets.ts";
import type { ServerDeps } from "../server/deps.ts";
import { readHealth, readStrips, readTestsPage, type RunTally } from "./dashboard-reads.ts";
import { INTERNAL_MESSAGE, toTRPCError } from "./errors.ts";

/** What the procedures work with, built once per server. */
export interface DashboardPlane {
  deps: ServerDeps;
  tokens: TokenTable;
  tally: RunTally;
  /** When this server started: the watchdog's "watching since" when it never ran here. */
  startedAt: number;
}

export interface DashboardContext {
  plane: DashboardPlane;
  token: string | undefined;
}

const t = initTRPC.context<DashboardContext>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    const mapped = toTRPCError(error);
    const internal = mapped.code === "INTERNAL_SERVER_ERROR";
    return { ...shape, message: internal ? INTERNAL_MESSAGE : mapped.message, data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path } };
  },
});

const admin = t.procedure.use(async ({ ctx, next }) => {
  if (ctx.plane.tokens.identify(ctx.token) === undefined) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)" });
  }
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

export const dashboardRouter = t.router({
  /** Jobs by state, as `/metrics` counts them. */
  summary: admin.query(({ ctx }) => ctx.plane.deps.store.stats(ctx.plane.deps.clock.now())),
  /** Runs per hour over the last 24 hours, and the last runs of the jobs that ran most recently. */
  runsOverview: admin.input(z.strictObject({ strips: z.int().min(0).max(50).optional() }).optional()).query(async ({ ctx, input }) => {
    const { deps, tally } = ctx.plane;
    const [chart, strips] = await Promise.all([tally.chart(deps.clock.now()), readStrips(deps.store, { jobs: input?.strips ?? 12 })]);
    return { chart, strips };
  }),
  health: admin.query(({ ctx }) => readHealth(ctx.plane.deps, ctx.plane.startedAt)),
  /** The tests status page written by `app tests-cronjob-runner`. */
  testsPage: admin.query(({ ctx }) => {
    const html = readTestsPage(ctx.plane.deps.freshnessDir);
    if (html === null) throw new AppError("NOT_FOUND", "no tests page yet: app tests-cronjob-runner has not finished a run");
    return { html };
  }),
});

export type DashboardRouter = typeof dashboardRouter;
