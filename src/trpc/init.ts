import { initTRPC, TRPCError } from "@trpc/server";
import type { Actor } from "../actor.ts";
import type { TrpcContext } from "./context.ts";
import { fieldErrorsOfError, INTERNAL_MESSAGE, toTRPCError } from "./errors.ts";

const t = initTRPC.context<TrpcContext>().create({
  // Never send stack traces, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const mapped = toTRPCError(error);
    const internal = mapped.code === "INTERNAL_SERVER_ERROR";
    const fieldErrors = internal ? undefined : fieldErrorsOfError(mapped);
    return {
      ...shape,
      message: internal ? INTERNAL_MESSAGE : mapped.message,
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path, ...(fieldErrors ? { fieldErrors } : {}) },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure needs a token, checked in constant time before its input is even read: an
 * admin token for everything, a viewer token for queries only (a mutation is `FORBIDDEN`).
 * The procedure then sees who calls as `ctx.actor`; what it throws is mapped in one place
 * (`toTRPCError`).
 */
const requireToken = t.middleware(async ({ ctx, type, next }) => {
  const identity = ctx.plane.tokens.identify(ctx.token);
  if (identity === undefined) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)" });
  }
  if (identity.role === "viewer" && type !== "query") {
    throw new TRPCError({ code: "FORBIDDEN", message: `the viewer token "${identity.name}" may read, not change (use an ADMIN_TOKEN)` });
  }
  const actor: Actor = { name: identity.name, role: identity.role, client: ctx.client ?? "client" };
  const result = await next({ ctx: { actor } });
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

/** A procedure for token holders: queries for viewers and admins, mutations for admins only. */
export const adminProcedure = t.procedure.use(requireToken);
