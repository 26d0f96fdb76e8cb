import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pkg from "../package.json" with { type: "json" };

const root = path.resolve(import.meta.dir, "..");

/** The flags of `npm run build` (package.json), read from the script itself so they cannot drift. */
export const BUILD_FLAGS = pkg.scripts.build.split(" ").filter((word) => word.startsWith("--") && word !== "--outfile");

let built: Promise<string> | undefined;

/**
 * The `app` binary built now from the current tree with the flags of `npm run build` (never a
 * stale dist/app), once per bench run, into a temp dir removed at exit.
 */
export function compiledApp(): Promise<string> {
  built ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-app-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const outfile = path.join(dir, "app");
    const proc = Bun.spawn([process.execPath, "build", ...BUILD_FLAGS, "src/cli/index.ts", "--outfile", outfile], { cwd: root, stdout: "ignore", stderr: "pipe" });
    if ((await proc.exited) !== 0) throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
    return outfile;
  })();
  return built;
}

/** How a figure's binary was built, for the tables. */
export const BUILT_AS = `built now with the flags of \`npm run build\` (${BUILD_FLAGS.join(" ")})`;
