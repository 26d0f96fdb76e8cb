import { ChangeFeed } from "../../src/changes.ts";
import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors.ts";
import { JobService } from "../../src/jobs/job-service.ts";
import { hashSecret, PENDING_REGISTRATION_JOB, RESET_CODE_JOB, UserService } from "../../src/users/users.ts";
import { freshRunner, T0 } from "../support/db.ts";
import { TEST_ACTOR } from "../support/runtime.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;

function freshUsers(options: ConstructorParameters<typeof UserService>[1] = {}) {
  const env = freshRunner();
  const jobs = new JobService({ store: env.store, registry: env.registry, clock: env.clock, changes: new ChangeFeed() });
  const users = new UserService({ store: env.store, clock: env.clock, jobs }, options);
  return { ...env, jobs, users };
}

async function rejectsWith(call: Promise<unknown>, code: AppError["code"], message: string): Promise<void> {
  const error = await call.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  expect((error as AppError).message).toContain(message);
}

describe("register", () => {
  test("stores a pending user (email lower-case, secrets hashed) and schedules its deadline job at 24 h", async () => {
    const { users, store } = freshUsers();
    const { user, registrationToken, expiresAt } = await users.register("  Ada@Example.COM ", "correct horse battery");
    expect(user).toMatchObject({ email: "ada@example.com", status: "pending", hasPassword: true });
    expect(expiresAt).toBe(new Date(T0 + 24 * HOUR).toISOString());
    const row = (await store.getUser(user.id))!;
    expect(row.registrationTokenHash).toBe(hashSecret(registrationToken));
    expect(row.registrationTokenHash).not.toContain(registrationToken);
    expect(await Bun.password.verify("correct horse battery", row.passwordHash!)).toBe(true);
    const job = await store.findJob(PENDING_REGISTRATION_JOB, user.id);
    expect(job).toMatchObject({ jobType: PENDING_REGISTRATION_JOB, userId: user.id, isActive: true });
    expect(job?.runAt?.getTime()).toBe(T0 + 24 * HOUR);
    expect(job?.nextRunAt?.getTime()).toBe(T0 + 24 * HOUR);
  });

  test("the deadline is configurable; a password is optional", async () => {
    const { users, store } = freshUsers({ registrationTtlMs: 2 * HOUR });
    const { user, expiresAt } = await users.register("b@example.com");
    expect(user.hasPassword).toBe(false);
    expect(expiresAt).toBe(new Date(T0 + 2 * HOUR).toISOString());
    expect((await store.findJob(PENDING_REGISTRATION_JOB, user.id))?.runAt?.getTime()).toBe(T0 + 2 * HOUR);
  });

  test("a taken email (in any case) is a CONFLICT; a bad email or short password names the field", async () => {
    const { users } = freshUsers();
    await users.register("c@example.com");
    await rejectsWith(users.register("C@EXAMPLE.com"), "CONFLICT", "already exists");
    await rejectsWith(users.register("not-an-email"), "INVALID_INPUT", "email: ");
    await rejectsWith(users.register("d@example.com", "short"), "INVALID_INPUT", "password: must be at least 8 characters");
  });

  test("at the deadline the job deletes the still-pending user and their jobs", async () => {
    const { users, store, runner, clock, jobs } = freshUsers();
    const { user } = await users.register("late@example.com");
    await jobs.create({ name: "noop", userId: user.id, intervalMinutes: 60 }, TEST_ACTOR);
    clock.advance(24 * HOUR - 1);
    expect((await runner.runDueJobs()).results.map((r) => r.name)).toEqual(["noop"]);
    expect(await store.getUser(user.id)).toBeDefined();
    clock.advance(1);
    const tick = await runner.runDueJobs();
    expect(tick.results).toContainEqual(expect.objectContaining({ name: PENDING_REGISTRATION_JOB, userId: user.id, status: "succeeded" }));
    expect(await store.getUser(user.id)).toBeUndefined();
    expect((await store.listJobs({ limit: 10 }, clock.now())).items).toHaveLength(0);
    expect((await store.listRuns({ limit: 10, status: "succeeded" })).items.map((r) => r.name)).toContain(PENDING_REGISTRATION_JOB);
  });

  test("delivered twice (at least once), the second run finds no user and succeeds changing nothing", async () => {
    const { users, store, runner, clock, jobs } = freshUsers({ registrationTtlMs: HOUR });
    const { user } = await users.register("twice@example.com");
    await jobs.create({ name: "deadline-again", jobType: PENDING_REGISTRATION_JOB, userId: user.id, runAt: new Date(T0 + HOUR) }, TEST_ACTOR);
    clock.advance(MINUTE);
    const keep = await users.register("keep@example.com");
    clock.set(T0 + HOUR);
    const tick = await runner.runDueJobs({ limit: 2 });
    expect(tick.results.map((r) => [r.userId, r.status])).toEqual([[user.id, "succeeded"], [user.id, "succeeded"]]);
    expect(await store.getUser(user.id)).toBeUndefined();
    expect(await store.getUser(keep.user.id)).toMatchObject({ status: "pending" });
  });
});

describe("confirm", () => {
  test("the right token activates the user (by email or id) and removes the deadline job", async () => {
    const { users, store, runner, clock } = freshUsers();
    const { user, registrationToken } = await users.register("e@example.com");
    const active = await users.confirm({ email: "E@example.com" }, registrationToken);
    expect(active).toMatchObject({ id: user.id, status: "active" });
    expect((await store.getUser(user.id))?.registrationTokenHash).toBeNull();
    expect(await store.findJob(PENDING_REGISTRATION_JOB, user.id)).toBeUndefined();
    clock.advance(25 * HOUR);
    await runner.runDueJobs();
    expect((await store.getUser(user.id))?.status).toBe("active");

    const other = await users.register("f@example.com");
    expect((await users.confirm({ id: other.user.id }, other.registrationToken)).status).toBe("active");
  });

  test("a wrong token, an expired registration, a confirmed or a missing user are refused", async () => {
    const { users, clock, store } = freshUsers();
    const { user, registrationToken } = await users.register("g@example.com");
    await rejectsWith(users.confirm({ id: user.id }, "wrong"), "INVALID_INPUT", "token: does not match");
    await rejectsWith(users.confirm({ id: user.id }, registrationToken.slice(0, -1)), "INVALID_INPUT", "token: does not match");
    expect((await store.getUser(user.id))?.status).toBe("pending");
    await rejectsWith(users.confirm({ id: 999 }, registrationToken), "NOT_FOUND", "user 999 does not exist");
    await rejectsWith(users.confirm({ email: "nobody@example.com" }, registrationToken), "NOT_FOUND", "does not exist");

    const late = await users.register("h@example.com");
    clock.advance(24 * HOUR);
    await rejectsWith(users.confirm({ id: late.user.id }, late.registrationToken), "INVALID_INPUT", "token: the registration expired");

    const fresh = freshUsers();
    const done = await fresh.users.register("i@example.com");
    await fresh.users.confirm({ id: done.user.id }, done.registrationToken);
    await rejectsWith(fresh.users.confirm({ id: done.user.id }, done.registrationToken), "CONFLICT", "already confirmed");
  });

  test("an active user is left alone by the deadline job, however often it runs", async () => {
    const { users, store, runner, clock, jobs } = freshUsers();
    const { user, registrationToken } = await users.register("j@example.com");
    await users.confirm({ id: user.id }, registrationToken);
    // The job scheduled again by hand, recurring, so the runner runs it twice.
    const job = await jobs.create({ name: PENDING_REGISTRATION_JOB, userId: user.id, intervalMinutes: 1 }, TEST_ACTOR);
    for (let i = 0; i < 2; i++) {
      expect((await runner.runNow(job.id, TEST_ACTOR)).status).toBe("succeeded");
      clock.advance(MINUTE);
    }
    expect(await store.getUser(user.id)).toMatchObject({ status: "active", email: "j@example.com" });
  });
});

describe("requestPasswordReset", () => {
  test("stores the hashed code with its 15 min expiry and schedules its invalidation at the expiry", async () => {
    const { users, store } = freshUsers();
    const { user } = await users.register("k@example.com");
    const reset = await users.requestPasswordReset("K@example.com");
    expect(reset).toMatchObject({ userId: user.id, expiresAt: new Date(T0 + 15 * MINUTE).toISOString() });
    const row = (await store.getUser(user.id))!;
    expect(row.resetPasswordCodeHash).toBe(hashSecret(reset.code));
    expect(row.resetPasswordCodeExpiresAt?.getTime()).toBe(T0 + 15 * MINUTE);
    const job = await store.findJob(RESET_CODE_JOB, user.id);
    expect(job?.nextRunAt?.getTime()).toBe(T0 + 15 * MINUTE);
  });

  test("a second request replaces the code and moves the same job (upsert by name and user)", async () => {
    const { users, store, clock } = freshUsers({ resetCodeTtlMs: 10 * MINUTE });
    const { user } = await users.register("l@example.com");
    const first = await users.requestPasswordReset("l@example.com");
    const job = (await store.findJob(RESET_CODE_JOB, user.id))!;
    clock.advance(5 * MINUTE);
    const second = await users.requestPasswordReset("l@example.com");
    expect(second.code).not.toBe(first.code);
    const moved = (await store.findJob(RESET_CODE_JOB, user.id))!;
    expect(moved.id).toBe(job.id);
    expect(moved.nextRunAt?.getTime()).toBe(T0 + 15 * MINUTE);
    expect((await store.getUser(user.id))?.resetPasswordCodeHash).toBe(hashSecret(second.code));
  });

  test("at the expiry the job clears the code; run again (or early) it changes nothing", async () => {
    const { users, store, runner, clock, jobs } = freshUsers();
    const { user } = await users.register("m@example.com");
    await users.requestPasswordReset("m@example.com");
    const early = await jobs.create({ name: "early-check", jobType: RESET_CODE_JOB, userId: user.id, intervalMinutes: 1 }, TEST_ACTOR);
    expect((await runner.runNow(early.id, TEST_ACTOR)).status).toBe("succeeded");
    expect((await store.getUser(user.id))?.resetPasswordCodeHash).not.toBeNull();
    await jobs.delete(early.id, TEST_ACTOR);

    clock.advance(15 * MINUTE);
    expect((await runner.runDueJobs()).results).toMatchObject([{ name: RESET_CODE_JOB, status: "succeeded" }]);
    const cleared = (await store.getUser(user.id))!;
    expect(cleared).toMatchObject({ resetPasswordCodeHash: null, resetPasswordCodeExpiresAt: null, status: "pending" });
    expect(await store.findJob(RESET_CODE_JOB, user.id)).toBeUndefined();

    const again = await jobs.create({ name: RESET_CODE_JOB, userId: user.id, intervalMinutes: 1 }, TEST_ACTOR);
    expect((await runner.runNow(again.id, TEST_ACTOR)).status).toBe("succeeded");
    expect(await store.getUser(user.id)).toEqual(cleared);
  });

  test("an unknown email is NOT_FOUND, a malformed one names the field", async () => {
    const { users } = freshUsers();
    await rejectsWith(users.requestPasswordReset("ghost@example.com"), "NOT_FOUND", "does not exist");
    await rejectsWith(users.requestPasswordReset("ghost"), "INVALID_INPUT", "email: ");
  });
});

describe("get", () => {
  test("by id or email, never a hash; NOT_FOUND otherwise", async () => {
    const { users } = freshUsers();
    const { user } = await users.register("n@example.com", "long enough password");
    const byId = await users.get({ id: user.id });
    expect(byId).toEqual(await users.get({ email: "N@EXAMPLE.COM" }));
    expect(Object.keys(byId).sort()).toEqual(["createdAt", "email", "hasPassword", "id", "resetPasswordCodeExpiresAt", "status", "updatedAt"]);
    await rejectsWith(users.get({ id: 404 }), "NOT_FOUND", "user 404 does not exist");
  });
});
