import { expect } from "bun:test";
import { T0 } from "../support/db.ts";
import { SECRETS } from "../support/server.ts";
import type { FuzzDatabase } from "./databases.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Rows of every kind for the fuzzer to aim at, written the way users write them (through the
 * app, as the admin): pending and active users, a reset code, one-time, interval, cron and
 * paused jobs, a dead job written by hand, and history rows from one tick.
 */
export async function seedDatabase(handle: (request: Request) => Promise<Response>, database: FuzzDatabase): Promise<void> {
  const call = async (procedure: string, input: unknown) => {
    const response = await handle(new Request(`http://localhost/trpc/${procedure}`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRETS.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(input),
    }));
    const body = await response.json() as { result: { data: Record<string, unknown> } };
    expect(response.status, `${procedure} ${JSON.stringify(body)}`).toBe(200);
    return body.result.data;
  };
  await call("users.register", { email: "pending@example.com" });
  const active = await call("users.register", { email: "active@example.com", password: "correct horse battery" });
  await call("users.confirm", { email: "active@example.com", token: active.registrationToken });
  await call("users.requestPasswordReset", { email: "active@example.com" });
  await call("jobs.create", { name: "once", jobType: "noop", runAt: iso(T0 + 3_600_000) });
  await call("jobs.create", { name: "every-five", jobType: "noop", intervalMinutes: 5, runAt: iso(T0 + 60_000) });
  await call("jobs.create", { name: "nightly", jobType: "noop", cron: "0 3 * * *", timezone: "Europe/Berlin", maxAttempts: 3 });
  await call("jobs.create", { name: "paused", jobType: "noop", runAt: iso(T0 + 86_400_000), isActive: false });
  await call("jobs.create", { name: "due-now", jobType: "noop", runAt: iso(T0 - 1000) });
  // A row written by hand with a job type nobody registered: the tick records its failure and it goes inactive.
  await database.write({
    sqlite: `INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, payload) VALUES ('legacy', 'gone_type', ?1, ?1, '{"x":1}')`,
    postgres: `INSERT INTO cron_jobs (name, job_type, run_at, next_run_at, payload) VALUES ('legacy', 'gone_type', to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0), '{"x":1}')`,
  }, [T0 - 5000]);
  const tick = await handle(new Request("http://localhost/api/cron/run", { method: "POST", headers: { authorization: `Bearer ${SECRETS.cronSecret}` } }));
  expect(((await tick.json()) as { claimed: number }).claimed).toBe(2);
}
