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

/**
 * A part of the app that changes jobs on its own account: the users domain schedules and removes
 * registration deadlines and reset-code expiries (`system (users)` in the audit log).
 */
export interface SystemActor {
  system: string;
}

/** Who a change is recorded as in the audit log (SPEC §2 `cron_job_changes.actor`). */
export type ChangeActor = Actor | SystemActor;

/** The users domain, as the author of the jobs it schedules. */
export const USERS_DOMAIN: SystemActor = { system: "users" };

/** `alice (cli)`, `system (users)`: the actor as one line of text. */
export function actorLabel(actor: ChangeActor): string {
  return "system" in actor ? `system (${actor.system})` : `${actor.name} (${actor.client})`;
}
