import { z } from "zod";
import { adminProcedure, router } from "../init.ts";

/** A registered job type and the JSON schema of its payload (null: it takes none). */
export interface JobTypeView {
  type: string;
  description: string;
  payloadSchema: Record<string, unknown> | null;
}

export const jobTypesRouter = router({
  list: adminProcedure.query(({ ctx }): JobTypeView[] => ctx.plane.registry.list().map((job) => ({
    type: job.type,
    description: job.description,
    payloadSchema: job.payloadSchema ? z.toJSONSchema(job.payloadSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown> : null,
  }))),
});
