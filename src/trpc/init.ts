import { initTRPC, TRPCError } from "@trpc/server";
import { secretMatches } from "../secrets.ts";
import type { TrpcContext } from "./context.ts";
import { INTERNAL_MESSAGE, toTRPCError } from "./errors.ts";

const t = initTRPC.context<TrpcContext>().create({
  // Never send stack traces, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const mapped = toTRPCError(error);
    const internal = mapped.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: internal ? INTERNAL_MESSAGE : mapped.message,
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure needs the admin token, checked in constant time before its input is even
 * read; then what it throws is mapped in one place (`toTRPCError`).
 */
const requireAdmin = t.middleware(async ({ ctx, next }) => {
  if (ctx.token === undefined || !secretMatches(ctx.token, ctx.plane.adminToken)) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)" });
  }
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

export const adminProcedure = t.procedure.use(requireAdmin);
