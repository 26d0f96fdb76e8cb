import { ManualClock, type Clock } from "../../src/clock.ts";
import type { RunnerOptions } from "../../src/runner/runner.ts";
import { buildApp } from "../../src/server/app.ts";
import type { Store } from "../../src/store/store.ts";
import { T0 } from "./db.ts";
import { testRegistry } from "./jobs.ts";
import { testRuntime } from "./runtime.ts";

export const SECRETS = { cronSecret: "cron-secret-0123456789abcdef", adminToken: "admin-token-0123456789abcdef", jobSigningSecret: "job-signing-secret-0123456789abcdef" };

/** The real app over `store`, built without listening; `app.handle(request)` drives it. */
export function testApp(store: Store, { clock = new ManualClock(T0) as Clock, runner: options = {} as Partial<RunnerOptions> } = {}) {
  const registry = testRegistry();
  const runtime = testRuntime(store, { clock, registry, runner: { abortGraceMs: 50, ...options } });
  const { runner } = runtime;
  let changes = 0;
  runtime.changes.subscribe(() => { changes++; });
  const app = buildApp({ ...runtime, secrets: SECRETS, freshnessDir: "/nonexistent" });
  return { app, runner, clock, registry, changes: () => changes };
}

export function cronRequest(init: { body?: string; headers?: Record<string, string>; method?: string; query?: string } = {}): Request {
  return new Request(`http://localhost/api/cron/run${init.query ?? ""}`, {
    method: init.method ?? "POST",
    headers: { authorization: `Bearer ${SECRETS.cronSecret}`, ...init.headers },
    body: init.body,
  });
}
