import { createCallerFactory, router } from "./init.ts";
import { dashboardRouter } from "./routers/dashboard.ts";
import { jobTypesRouter } from "./routers/job-types.ts";
import { jobsRouter } from "./routers/jobs.ts";
import { runsRouter } from "./routers/runs.ts";
import { usersRouter } from "./routers/users.ts";

/** The control plane of SPEC §7, under `/trpc`. */
export const appRouter = router({
  jobs: jobsRouter,
  runs: runsRouter,
  jobTypes: jobTypesRouter,
  users: usersRouter,
  dashboard: dashboardRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in process (tests, the dashboard's server side): `createCaller(context)`. */
export const createCaller = createCallerFactory(appRouter);
