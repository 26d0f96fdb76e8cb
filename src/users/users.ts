import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { USERS_DOMAIN } from "../actor.ts";
import type { Clock } from "../clock.ts";
import { AppError, invalidField } from "../errors.ts";
import type { JobService } from "../jobs/job-service.ts";
import { secretMatches } from "../secrets.ts";
import type { Store, UserRecord } from "../store/store.ts";
import { parseInput } from "../validation.ts";

/** The jobs this domain schedules; their names are their job types. */
export const PENDING_REGISTRATION_JOB = "invalidate_pending_registration";
export const RESET_CODE_JOB = "invalidate_reset_password_code";

export interface UserServiceOptions {
  /** How long a registration may stay unconfirmed before the user is deleted (default 24 h). */
  registrationTtlMs: number;
  /** How long a reset-password code is valid (default 15 min). */
  resetCodeTtlMs: number;
}

export const defaultUserOptions: UserServiceOptions = { registrationTtlMs: 24 * 3_600_000, resetCodeTtlMs: 15 * 60_000 };

export interface UserServiceDeps {
  store: Store;
  clock: Clock;
  jobs: JobService;
}

/** A user as the control plane answers it: never a hash. */
export interface UserView {
  id: number;
  email: string;
  status: UserRecord["status"];
  hasPassword: boolean;
  resetPasswordCodeExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Which user: by id or by email. */
export type UserRef = { id: number } | { email: string };

export const emailField = z.string().trim().toLowerCase().pipe(z.email("not an email address").max(254, "must be at most 254 characters"));
export const passwordField = z.string().min(8, "must be at least 8 characters").max(1024, "must be at most 1024 characters");

const registration = z.object({ email: emailField, password: passwordField.optional() });
const byEmail = z.object({ email: emailField });

/** Tokens and codes are stored as their SHA-256, never in clear. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function userView(user: UserRecord): UserView {
  return {
    id: user.id,
    email: user.email,
    status: user.status,
    hasPassword: user.passwordHash !== null,
    resetPasswordCodeExpiresAt: user.resetPasswordCodeExpiresAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/**
 * The users domain of SPEC §3: registering schedules `invalidate_pending_registration` at the
 * deadline, a password reset schedules `invalidate_reset_password_code` at the code's expiry;
 * both upsert by `(name, userId)`. Clear tokens and codes are returned once, to the caller.
 * The audit log records these jobs' changes as `system (users)`: the domain, not the caller,
 * decides them (whoever registers, the deadline job is the same).
 */
export class UserService {
  readonly options: UserServiceOptions;

  constructor(private readonly deps: UserServiceDeps, options: Partial<UserServiceOptions> = {}) {
    this.options = { ...defaultUserOptions, ...options };
  }

  async register(email: string, password?: string): Promise<{ user: UserView; registrationToken: string; expiresAt: string }> {
    const input = parseInput(registration, { email, password });
    const { store, clock, jobs } = this.deps;
    const now = clock.now();
    const registrationToken = randomBytes(32).toString("base64url");
    const passwordHash = input.password === undefined ? null : await Bun.password.hash(input.password);
    const user = await store.insertUser({ email: input.email, status: "pending", passwordHash, registrationTokenHash: hashSecret(registrationToken) }, now);
    const expiresAt = new Date(now + this.options.registrationTtlMs);
    try {
      await jobs.upsert({ name: PENDING_REGISTRATION_JOB, userId: user.id, runAt: expiresAt }, USERS_DOMAIN);
    } catch (err) {
      // Without its deadline job the registration would never expire: undo it.
      await store.deletePendingUser(user.id);
      throw err;
    }
    return { user: userView(user), registrationToken, expiresAt: expiresAt.toISOString() };
  }

  /** Activates a pending user whose token matches (compared in constant time) before the deadline. */
  async confirm(ref: UserRef, token: string): Promise<UserView> {
    const { store, clock, jobs } = this.deps;
    const user = await this.find(ref);
    if (user.status === "active") throw new AppError("CONFLICT", `user ${user.id} is already confirmed`);
    const now = clock.now();
    const deadline = await store.findJob(PENDING_REGISTRATION_JOB, user.id);
    if (deadline?.runAt && deadline.runAt.getTime() <= now) {
      throw invalidField("token", `the registration expired at ${deadline.runAt.toISOString()}`);
    }
    if (user.registrationTokenHash === null || !secretMatches(hashSecret(token), user.registrationTokenHash)) {
      throw invalidField("token", "does not match");
    }
    const active = await store.updateUser(user.id, { status: "active", registrationTokenHash: null }, now);
    if (!active) throw new AppError("NOT_FOUND", `user ${user.id} does not exist`);
    // Its deadline job would leave an active user alone anyway; removing it keeps the table tidy.
    if (deadline) await jobs.delete(deadline.id, USERS_DOMAIN).catch((err) => { if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err; });
    return userView(active);
  }

  /** Stores a new code (hashed) valid for `resetCodeTtlMs` and schedules its invalidation. */
  async requestPasswordReset(email: string): Promise<{ userId: number; code: string; expiresAt: string }> {
    const { store, clock, jobs } = this.deps;
    const user = await this.find({ email });
    const now = clock.now();
    const code = randomBytes(16).toString("base64url");
    const expiresAt = new Date(now + this.options.resetCodeTtlMs);
    const updated = await store.updateUser(user.id, { resetPasswordCodeHash: hashSecret(code), resetPasswordCodeExpiresAt: expiresAt }, now);
    if (!updated) throw new AppError("NOT_FOUND", `user ${user.id} does not exist`);
    await jobs.upsert({ name: RESET_CODE_JOB, userId: user.id, runAt: expiresAt }, USERS_DOMAIN);
    return { userId: user.id, code, expiresAt: expiresAt.toISOString() };
  }

  async get(ref: UserRef): Promise<UserView> {
    return userView(await this.find(ref));
  }

  private async find(ref: UserRef): Promise<UserRecord> {
    const user = "id" in ref
      ? await this.deps.store.getUser(ref.id)
      : await this.deps.store.getUserByEmail(parseInput(byEmail, ref).email);
    if (!user) throw new AppError("NOT_FOUND", `user ${"id" in ref ? ref.id : JSON.stringify(ref.email.trim().toLowerCase())} does not exist`);
    return user;
  }
}
