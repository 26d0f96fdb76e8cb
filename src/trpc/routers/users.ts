import { z } from "zod";
import { emailField, passwordField, type UserRef } from "../../users/users.ts";
import { adminProcedure, router } from "../init.ts";

const ref = {
  id: z.int().positive().optional(),
  email: emailField.optional(),
};
const oneRef = (v: { id?: number | undefined; email?: string | undefined }) => (v.id === undefined) !== (v.email === undefined);
const refError = { message: "give id or email (one of them)", path: ["id"] };
const refOf = (v: { id?: number | undefined; email?: string | undefined }): UserRef => (v.id !== undefined ? { id: v.id } : { email: v.email! });

export const usersRouter = router({
  /** A pending user and its registration token (returned this once); expires at `expiresAt`. */
  register: adminProcedure.input(z.strictObject({ email: emailField, password: passwordField.optional() }))
    .mutation(({ ctx, input }) => ctx.plane.users.register(input.email, input.password)),
  confirm: adminProcedure.input(z.strictObject({ ...ref, token: z.string().min(1, "must not be empty") }).refine(oneRef, refError))
    .mutation(({ ctx, input }) => ctx.plane.users.confirm(refOf(input), input.token)),
  /** A reset-password code (returned this once) valid until `expiresAt`. */
  requestPasswordReset: adminProcedure.input(z.strictObject({ email: emailField }))
    .mutation(({ ctx, input }) => ctx.plane.users.requestPasswordReset(input.email)),
  get: adminProcedure.input(z.strictObject(ref).refine(oneRef, refError)).query(({ ctx, input }) => ctx.plane.users.get(refOf(input))),
});
