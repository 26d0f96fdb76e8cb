/**
 * The page's calls: the control plane (`/trpc`, `AppRouter`), the dashboard's read models
 * among them (`dashboard.*`), with the token as a bearer header. Types only come from the
 * server; none of its code is bundled.
 */
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../trpc/router.ts";
import { session } from "./session.ts";

export type AppOutputs = inferRouterOutputs<AppRouter>;
/** A job as `jobs.list` answers it (times as ISO strings). */
export type JobView = AppOutputs["jobs"]["list"]["items"][number];
export type RunView = AppOutputs["runs"]["list"]["items"][number];
/** One row of the audit log (`jobs.changes`). */
export type ChangeView = AppOutputs["jobs"]["changes"]["items"][number];
export type { JobTypeView } from "../trpc/routers/job-types.ts";
export type DashboardOutputs = AppOutputs["dashboard"];
export type HealthView = DashboardOutputs["health"];
export type RunsOverview = DashboardOutputs["runsOverview"];
export type JobStrip = RunsOverview["strips"][number];

/** A token tried at sign-in, before it is kept. */
let candidate: string | null = null;

const link = (url: string) => httpBatchLink({
  url,
  maxURLLength: 4000,
  headers: () => {
    const token = candidate ?? session.token;
    return token ? { authorization: `Bearer ${token}`, "x-cronjobs-client": "dashboard" } : { "x-cronjobs-client": "dashboard" };
  },
});

export const api = createTRPCClient<AppRouter>({ links: [link("/trpc")] });
/** The dashboard's read models: the same client, the same mount. */
export const dashboardApi = api.dashboard;

/** Checks a token with a cheap call; answers the job types on success. */
export async function tryToken(token: string) {
  candidate = token;
  try {
    return await api.jobTypes.list.query();
  } finally {
    candidate = null;
  }
}

/** The tRPC error code of a failed call (`UNAUTHORIZED`, `BAD_REQUEST`, …), if it has one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
}

export const isUnauthorized = (err: unknown) => errorCode(err) === "UNAUTHORIZED";

/** The server's own message, or what went wrong on the way. */
export function errorText(err: unknown): string {
  if (err instanceof TRPCClientError && err.data) return err.message;
  if (err instanceof Error) return /fetch|network/i.test(err.message) ? "the server cannot be reached" : err.message;
  return String(err);
}
