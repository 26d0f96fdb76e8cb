const cleanups: (() => void | Promise<void>)[] = [];

/** Runs `fn` after the current test, whether it passed or not (last registered first). */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

const atEnd: (() => void | Promise<void>)[] = [];

/**
 * Runs `fn` once the whole test run is over (shared builds, safety nets). `process.on("exit")`
 * is not a substitute: bun's test runner exits without emitting it.
 */
export function atRunEnd(fn: () => void | Promise<void>): void {
  atEnd.push(fn);
}

/** Called by the preload (test/support/preload.ts) after the last test of the run. */
export async function runEndCleanups(): Promise<void> {
  await runCleanups();
  while (atEnd.length > 0) {
    try {
      await atEnd.pop()!();
    } catch (err) {
      console.error("cleanup failed:", err);
    }
  }
}

/** Called after every test of every file by the preload (test/support/preload.ts). */
export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error("cleanup failed:", err);
    }
  }
}
