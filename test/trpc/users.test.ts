import { describe, expect, test } from "bun:test";
import { freshCaller, rejects, T0 } from "./support.ts";

describe("users procedures", () => {
  test("register → confirm → requestPasswordReset → get, each scheduling or clearing its job", async () => {
    const { caller, pokes } = freshCaller();
    const registered = await caller.users.register({ email: "Zoe@Example.com", password: "a long password" });
    expect(registered).toMatchObject({ user: { email: "zoe@example.com", status: "pending", hasPassword: true }, expiresAt: new Date(T0 + 86_400_000).toISOString() });
    expect(registered.registrationToken).toMatch(/^[\w-]{43}$/);
    expect((await caller.jobs.list({ userId: registered.user.id })).items).toMatchObject([{ name: "invalidate_pending_registration", nextRunAt: registered.expiresAt }]);
    expect(pokes.count).toBe(1);

    const confirmed = await caller.users.confirm({ email: "zoe@example.com", token: registered.registrationToken });
    expect(confirmed).toMatchObject({ id: registered.user.id, status: "active" });
    expect((await caller.jobs.list({ userId: registered.user.id })).items).toHaveLength(0);

    const reset = await caller.users.requestPasswordReset({ email: "zoe@example.com" });
    expect(reset).toMatchObject({ userId: registered.user.id, expiresAt: new Date(T0 + 15 * 60_000).toISOString() });
    expect((await caller.jobs.list({ userId: registered.user.id })).items).toMatchObject([{ name: "invalidate_reset_password_code", nextRunAt: reset.expiresAt }]);

    expect(await caller.users.get({ id: registered.user.id })).toMatchObject({ email: "zoe@example.com", status: "active", resetPasswordCodeExpiresAt: reset.expiresAt });
    expect(await caller.users.get({ email: "ZOE@example.com" })).toMatchObject({ id: registered.user.id });
  });

  test("errors: BAD_REQUEST naming the field, NOT_FOUND, CONFLICT", async () => {
    const { caller } = freshCaller();
    await rejects(caller.users.register({ email: "nope" }), "BAD_REQUEST", "email: not an email address");
    await rejects(caller.users.register({ email: "a@example.com", password: "short" }), "BAD_REQUEST", "password: must be at least 8 characters");
    const { user, registrationToken } = await caller.users.register({ email: "a@example.com" });
    await rejects(caller.users.register({ email: "A@example.com" }), "CONFLICT");
    await rejects(caller.users.confirm({ id: user.id, token: "wrong" }), "BAD_REQUEST", "token: does not match");
    await rejects(caller.users.confirm({ token: registrationToken }), "BAD_REQUEST", "id: give id or email");
    await rejects(caller.users.confirm({ id: user.id, email: "a@example.com", token: registrationToken }), "BAD_REQUEST", "id: give id or email");
    await rejects(caller.users.confirm({ id: 99, token: registrationToken }), "NOT_FOUND");
    await caller.users.confirm({ id: user.id, token: registrationToken });
    await rejects(caller.users.confirm({ id: user.id, token: registrationToken }), "CONFLICT", "already confirmed");
    await rejects(caller.users.requestPasswordReset({ email: "b@example.com" }), "NOT_FOUND");
    await rejects(caller.users.get({ id: 99 }), "NOT_FOUND");
    await rejects(caller.users.get({}), "BAD_REQUEST", "id: give id or email");
  });
});
