/**
 * Bundles the dashboard (index.html with its TypeScript and CSS) when the server's code is
 * bundled: imported `with { type: "macro" }`, so `bun build --compile` runs it once and puts
 * the files in the binary as string literals, and `bun run`/`bun test` run it when they load
 * the server. Nothing is read from the source tree by the compiled binary.
 *
 * Bun's bundler cannot be called from inside a macro, so this runs `bundle-build.ts` in a
 * child `bun`, which writes the files as JSON on stdout.
 */

/** One bundled file; `path` is where the page refers to it (`/assets/…`, or `/` for the page). */
export interface BundledFile {
  path: string;
  type: string;
  text: string;
}

export function bundleDashboard(): BundledFile[] {
  const child = Bun.spawnSync([process.execPath, `${import.meta.dir}/bundle-build.ts`], {
    stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_BE_BUN: "1" },
  });
  if (child.exitCode !== 0) throw new Error(`the dashboard did not bundle:\n${child.stderr.toString()}`);
  return JSON.parse(child.stdout.toString()) as BundledFile[];
}
