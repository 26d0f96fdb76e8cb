const cleanups: (() => void | Promise<void>)[] = [];

/** Runs `fn` after the current test, whether it passed or not (last registered first). */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
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
