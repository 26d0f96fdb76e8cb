import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultRegistry, type JobRegistry } from "../../src/jobs/registry.ts";
import type { RunnerOptions } from "../../src/runner/runner.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";

import { onCleanup } from "./cleanup.ts";
import { testRuntime } from "./runtime.ts";

export { onCleanup };

/** A fresh temp dir, removed after the test. */
export function tempDir(prefix = "cronjobs-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh SQLite database file from the real migrations, closed after the test. */
export function freshStore(options: { busyTimeoutMs?: number } = {}): { store: SqliteStore; file: string } {
  const file = path.join(tempDir(), "app.db");
  const store = SqliteStore.open(file, options);
  onCleanup(() => store.close());
  return { store, file };
}

export const T0 = Date.parse("2026-01-05T12:00:00.000Z");

/** A runtime (runner, services) over a fresh database and a manual clock at `T0` (`testRuntime`). */
export function freshRunner(options: Partial<RunnerOptions> = {}, registry: JobRegistry = defaultRegistry()) {
  const { store, file } = freshStore();
  return { ...testRuntime(store, { registry, runner: options }), store, file };
}
