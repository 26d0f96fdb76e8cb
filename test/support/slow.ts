import { describe } from "bun:test";

/** Slow suites run only with SLOW_TESTS=1 (`npm run test:slow`, and always in CI). */
export const runSlow = process.env.SLOW_TESTS === "1";

/** `describe` for a slow suite: skipped with a visible notice unless SLOW_TESTS=1. */
export function describeSlow(name: string, fn: () => void): void {
  if (!runSlow) console.log(`[slow suite skipped] ${name} — run it with SLOW_TESTS=1 (npm run test:slow)`);
  describe.skipIf(!runSlow)(name, fn);
}
