// HISTORY_DAYS reaches the runner's pruning through the composition root (issue 14.5).
import { expect, test } from "bun:test";
import path from "node:path";
import { cronJobRuns } from "../db/schema/sqlite.ts";
import { ManualClock } from "../src/clock.ts";
import { loadConfig } from "../src/config.ts";
import { createRuntime } from "../src/runtime.ts";
import type { SqliteStore } from "../src/store/sqlite-store.ts";
import { onCleanup, T0, tempDir } from "./support/db.ts";

const DAY = 86_400_000;

test("history and audit rows older than HISTORY_DAYS are pruned at a tick; younger ones stay", async () => {
  const config = loadConfig({
    DATABASE_URL: path.join(tempDir(), "app.db"), HISTORY_DAYS: "3",
    CRON_SECRET: "cron-secret-0123456789abcdef", ADMIN_TOKEN: "admin-token-0123456789abcdef", JOB_SIGNING_SECRET: "job-signing-secret-0123456789",
  }, {});
  const runtime = await createRuntime(config, { clock: new ManualClock(T0) });
  onCleanup(() => runtime.close());
  const store = runtime.store as SqliteStore;
  const finishedAgo = [1, 2.9, 3.1, 10];
  store.orm.insert(cronJobRuns).values(finishedAgo.map((days, i) => ({
    jobId: i + 1, name: `job-${days}`, jobType: "noop", userId: null, scheduledFor: null,
    startedAt: new Date(T0 - days * DAY - 20), finishedAt: new Date(T0 - days * DAY),
    status: "succeeded" as const, error: null, attempt: 1, runId: "seed", runner: "seed/1",
  }))).run();
  for (const days of finishedAgo) {
    await store.recordChange({ jobId: 1, action: "update", actor: `job-${days}`, before: { timeoutSeconds: 1 }, after: { timeoutSeconds: 2 }, at: T0 - days * DAY });
  }
  await runtime.runner.runDueJobs();
  const left = (await store.listRuns({ limit: 100 })).items.map((r) => r.name).sort();
  expect(left).toEqual(["job-1", "job-2.9"]);
  const changes = (await store.listChanges({ limit: 100 })).items.map((c) => c.actor).sort();
  expect(changes).toEqual(["job-1", "job-2.9"]);
});
