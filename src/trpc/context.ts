import type { Clock } from "../clock.ts";
import { JobService } from "../jobs/job-service.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { Logger } from "../logger.ts";
import type { Runner } from "../runner/runner.ts";
import { bearerToken } from "../secrets.ts";
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
  /** The token every procedure requires (`Authorization: Bearer <ADMIN_TOKEN>`). */
  adminToken: string;
  onJobsChanged: () => void;
}

/** The context of one call: the control plane and the token the caller presented, if any. */
export interface TrpcContext {
  plane: ControlPlane;
  token: string | undefined;
}

export function createControlPlane(deps: ServerDeps, userOptions: Partial<UserServiceOptions> = {}): ControlPlane {
  const { store, registry, clock, runner, logger, onJobsChanged } = deps;
  const jobs = new JobService({ store, registry, clock, onJobsChanged });
  const users = new UserService({ store, clock, jobs }, userOptions);
  return { jobs, users, runner, registry, store, clock, logger, adminToken: deps.secrets.adminToken, onJobsChanged };
}

/** Reads the bearer token of a request; nothing touches the database here. */
export function contextFromRequest(plane: ControlPlane, request: Request): TrpcContext {
  return { plane, token: bearerToken(request.headers.get("authorization")) };
}
