import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { defaultRegistry, JobRegistry } from "../../src/jobs/registry.ts";
import { silentLogger } from "../../src/logger.ts";
import { Runner, type RunnerOptions } from "../../src/runner/runner.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";

const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Runs `fn` after the current test, whether it passed or not. */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

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

/** A runner over a fresh database and a manual clock at `T0`. */
export function freshRunner(options: Partial<RunnerOptions> = {}, registry: JobRegistry = defaultRegistry()) {
  const { store, file } = freshStore();
  const clock = new ManualClock(T0);
  const runner = new Runner({ store, registry, clock, logger: silentLogger }, { runnerName: "test/1", ...options });
  return { store, file, clock, runner, registry };
}
