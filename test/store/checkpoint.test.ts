import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { AppError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { freshRunner, freshStore, T0, tempDir } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { testRuntime } from "../support/runtime.ts";

/** The history rows in the database file alone, as a copy without its write-ahead log reads it. */
function runsInDatabaseFile(file: string): number {
  const copy = path.join(tempDir(), "copy.db");
  fs.copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return db.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_job_runs").get()!.n;
  } finally {
    db.close();
  }
}

describe("the write-ahead log is folded in at the end of a tick (SQLite)", () => {
  test("a tick that ran jobs leaves their rows in the database file, so SQLite's own checkpoint does not fall in a later claim", async () => {
    const { store, runner, file } = freshRunner();
    for (const name of ["a", "b", "c"]) await addJob(store, T0, { name, runAt: new Date(T0 - 1_000) });
    // One not due yet: it stays.
    await addJob(store, T0, { name: "later", runAt: new Date(T0 + 3_600_000) });
    expect((await runner.runDueJobs()).succeeded).toBe(3);
    // Three runs are a few pages of log, far below SQLite's own checkpoint at 1,000: only the tick's put them there.
    expect(runsInDatabaseFile(file)).toBe(3);
    expect(store.client.query<{ n: number }, []>("SELECT count(*) AS n FROM cron_jobs").get()!.n).toBe(1);
  });

  test("a checkpoint that fails is logged, and the tick's runs stand", async () => {
    const { store } = freshStore();
    const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger: Logger = { info() {}, error() {}, warn: (msg, fields) => warnings.push({ msg, fields }) };
    const failing = new Proxy(store, {
      get(target, key) {
        if (key === "checkpoint") return async () => { throw new AppError("UNAVAILABLE", "the database is locked"); };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { runner } = testRuntime(failing, { logger });
    await addJob(store, T0, { name: "runs-anyway", runAt: new Date(T0 - 1_000) });
    const result = await runner.runDueJobs();
    expect([result.claimed, result.succeeded]).toEqual([1, 1]);
    expect(warnings).toEqual([{ msg: "cannot checkpoint the write-ahead log", fields: { error: "the database is locked" } }]);
    expect((await store.listRuns({ limit: 5 })).items.map((r) => [r.name, r.status])).toEqual([["runs-anyway", "succeeded"]]);
  });
});
