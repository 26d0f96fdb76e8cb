import path from "node:path";

/** How this program was started: the compiled `app` binary, or Bun running the sources. */
export interface SelfInvocation {
  compiled: boolean;
  /** The words that start this program again: `[app]` or `[bun, …/src/cli/index.ts]`, absolute. */
  command: string[];
  /** The source checkout (with `package.json` and `test/`) when run from source. */
  sourceDir: string | undefined;
}

export function selfInvocation(): SelfInvocation {
  // Inside a compiled binary the modules live in Bun's embedded file system.
  const compiled = import.meta.path.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(import.meta.path);
  if (compiled) return { compiled, command: [process.execPath], sourceDir: undefined };
  const sourceDir = path.resolve(import.meta.dir, "..");
  return { compiled, command: [process.execPath, path.join(sourceDir, "src", "cli", "index.ts")], sourceDir };
}
