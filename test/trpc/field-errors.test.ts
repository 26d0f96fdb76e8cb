import { describe, expect, test } from "bun:test";
import { buildApp } from "../../src/server/app.ts";
import { ADMIN_TOKEN, freshDeps } from "./support.ts";

/** POSTs a mutation the way tRPC's fetch client does, and answers the error's `data`. */
async function errorData(path: string, input: unknown) {
  const { deps } = freshDeps();
  const app = buildApp(deps);
  const response = await app.handle(new Request(`http://localhost/trpc/${path}`, {
    method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(input),
  }));
  return { status: response.status, body: (await response.json()) as { error: { message: string; data: Record<string, unknown> } } };
}

describe("field errors travel as data", () => {
  test("an input refused by its schema names each field in data.fieldErrors", async () => {
    const { status, body } = await errorData("jobs.create", { name: "x", jobType: "noop", intervalMinutes: 0, timeoutSeconds: -1 });
    expect(status).toBe(400);
    expect(body.error.data).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { intervalMinutes: [expect.any(String)], timeoutSeconds: [expect.any(String)] } });
  });

  test("a field refused by the service (a missing user) is named the same way", async () => {
    const { status, body } = await errorData("jobs.create", { name: "x", jobType: "noop", intervalMinutes: 5, userId: 999 });
    expect(status).toBe(400);
    expect(body.error.data.fieldErrors).toEqual({ userId: ["user 999 does not exist"] });
  });

  test("errors that are not about fields carry none", async () => {
    const { status, body } = await errorData("jobs.delete", { id: 12345 });
    expect(status).toBe(404);
    expect(body.error.data.fieldErrors).toBeUndefined();
  });
});
