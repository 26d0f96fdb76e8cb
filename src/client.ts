/**
 * The typed client of the control plane, for other TypeScript programs:
 *
 *   import { createClient } from "cronjobs";
 *   const cron = createClient({ url: "http://127.0.0.1:3000", token: process.env.ADMIN_TOKEN! });
 *   await cron.jobs.create.mutate({ name: "noop", runAt: new Date(Date.now() + 60_000) });
 *
 * It imports the router's type only, so nothing of the server is loaded at run time.
 */
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError, type TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./trpc/router.ts";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** The shapes as they arrive over the wire (JSON). */
export type JobView = RouterOutputs["jobs"]["get"];
export type RunView = RouterOutputs["runs"]["list"]["items"][number];
/** One row of the audit log (`jobs.changes`). */
export type ChangeView = RouterOutputs["jobs"]["changes"]["items"][number];
export type UserView = RouterOutputs["users"]["get"];
export type JobTypeView = RouterOutputs["jobTypes"]["list"][number];
export type JobRunResult = RouterOutputs["jobs"]["runNow"];
export { TRPCClientError };
/** For the app an `http` job calls: checks its `X-Cronjobs-Signature`. */
export { SIGNATURE_HEADER, verifySignature, type VerifySignatureOptions } from "./signature.ts";

export interface ClientOptions {
  /** The server's base URL (`APP_URL`, e.g. http://127.0.0.1:3000); `/trpc` is added. */
  url: string;
  /** The server's `ADMIN_TOKEN`. */
  token: string;
  /** Calls made together go in one HTTP request (default true). */
  batch?: boolean;
  /** A fetch of your own (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** More headers on every call (e.g. `x-cronjobs-client`, which names the kind of client in the audit log). */
  headers?: Record<string, string>;
}

export type Client = TRPCClient<AppRouter>;

/** A client typed by `AppRouter`: `client.jobs.list.query()`, `client.jobs.create.mutate({…})`. */
export function createClient({ url, token, batch = true, fetch, headers = {} }: ClientOptions): Client {
  const endpoint = `${url.replace(/\/+$/, "").replace(/\/trpc$/, "")}/trpc`;
  const options = { url: endpoint, headers: { ...headers, authorization: `Bearer ${token}` }, ...(fetch ? { fetch } : {}) };
  return createTRPCClient<AppRouter>({ links: [batch ? httpBatchLink(options) : httpLink(options)] });
}
