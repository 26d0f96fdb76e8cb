import { CLIENT_HEADER, clientKind, type ClientKind } from "../actor.ts";
import { bearerToken, TokenTable } from "../secrets.ts";
import type { Runtime } from "../runtime.ts";
import type { Secrets } from "../secrets.ts";

/** What the procedures work with, built once per server: the runtime, the tokens it accepts, and where freshness files live. */
export interface ControlPlane extends Omit<Runtime, "close" | "watch"> {
  /** The tokens procedures accept (`Authorization: Bearer <token>`): admins, and viewers for queries. */
  tokens: TokenTable;
  /** Where the freshness markers and the tests status page live (the dashboard's health reads them). */
  freshnessDir: string;
  /** When this server started: the watchdog's "watching since" when it never ran here. */
  startedAt: number;
}

/** What `createControlPlane` needs: the runtime, its secrets and the freshness folder. */
export type PlaneDeps = Omit<Runtime, "close" | "watch"> & { secrets: Secrets; freshnessDir: string };

/**
 * The context of one call: the control plane, the token the caller presented, if any, and the
 * kind of client it says it is. Procedures see `ctx.actor` (src/actor.ts), added by the
 * middleware that checks the token (src/trpc/init.ts).
 */
export interface TrpcContext {
  plane: ControlPlane;
  token: string | undefined;
  client?: ClientKind;
}

export function createControlPlane({ secrets, ...deps }: PlaneDeps): ControlPlane {
  return { ...deps, tokens: TokenTable.from(secrets), startedAt: deps.clock.now() };
}

/** Reads the bearer token of a request; nothing touches the database here. */
export function contextFromRequest(plane: ControlPlane, request: Request): TrpcContext {
  return { plane, token: bearerToken(request.headers.get("authorization")), client: clientKind(request.headers.get(CLIENT_HEADER)) };
}
