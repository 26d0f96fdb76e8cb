import { CLIENT_HEADER, clientKind, type ClientKind } from "../actor.ts";
import type { Clock } from "../clock.ts";
import { JobService } from "../jobs/job-service.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { Logger } from "../logger.ts";
import type { Runner } from "../runner/runner.ts";
import { bearerToken, TokenTable } from "../secrets.ts";
import type { ServerDeps } from "../server/deps.ts";
import type { Store } from "../store/store.ts";
import { UserService, type UserServiceOptions } from "../users/users.ts";

/** What the procedures work with, built once per server. */
export interface ControlPlane {
  jobs: JobService;
  users: UserService;
  runner: Runner;
  registry: JobRegistry;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The tokens procedures accept (`Authorization: Bearer <token>`): admins, and viewers for queries. */
  tokens: TokenTable;
  onJobsChanged: () => void;
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

export function createControlPlane(deps: ServerDeps, userOptions: Partial<UserServiceOptions> = {}): ControlPlane {
  const { store, registry, clock, runner, logger, onJobsChanged } = deps;
  const jobs = new JobService({ store, registry, clock, onJobsChanged });
  const users = new UserService({ store, clock, jobs }, userOptions);
  return { jobs, users, runner, registry, store, clock, logger, tokens: TokenTable.from(deps.secrets), onJobsChanged };
}

/** Reads the bearer token of a request; nothing touches the database here. */
export function contextFromRequest(plane: ControlPlane, request: Request): TrpcContext {
  return { plane, token: bearerToken(request.headers.get("authorization")), client: clientKind(request.headers.get(CLIENT_HEADER)) };
}
