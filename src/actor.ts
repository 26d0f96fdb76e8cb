import type { Role } from "./secrets.ts";

/** The kinds of client a request says it comes from (`X-Cronjobs-Client`); anything else is `client`. */
export type ClientKind = "dashboard" | "cli" | "client";

/** The header the dashboard and `app jobs` send so that changes say where they came from. */
export const CLIENT_HEADER = "x-cronjobs-client";

/**
 * Who makes a call: the name of the token presented (`admin` for a plain `ADMIN_TOKEN`, else
 * the `name` of `name:token`), what it may do, and the kind of client. tRPC procedures get it
 * as `ctx.actor`; services take it as the author of a change (the audit log's actor).
 */
export interface Actor {
  name: string;
  role: Role;
  client: ClientKind;
}

export function clientKind(header: string | null | undefined): ClientKind {
  return header === "dashboard" || header === "cli" ? header : "client";
}

/** `alice (cli)`: the actor as one line of text. */
export function actorLabel(actor: Actor): string {
  return `${actor.name} (${actor.client})`;
}
