import { CLIENT_HEADER, clientKind, type ClientKind } from "../actor.ts";
import { bearerToken, TokenTable } from "../secrets.ts";
import type { ServerDeps } from "../server/deps.ts";

/** What the procedures work with, built once per server: the runtime and the tokens it accepts. */
export interface ControlPlane extends Omit<ServerDeps, "secrets" | "freshnessDir"> {
  /** The tokens procedures accept (`Authorization: Bearer <token>`): admins, and viewers for queries. */
  tokens: TokenTable;
}

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

export function createControlPlane(deps: ServerDeps): ControlPlane {
  return { ...deps, tokens: TokenTable.from(deps.secrets) };
}

/** Reads the bearer token of a request; nothing touches the database here. */
export function contextFromRequest(plane: ControlPlane, request: Request): TrpcContext {
  return { plane, token: bearerToken(request.headers.get("authorization")), client: clientKind(request.headers.get(CLIENT_HEADER)) };
}
