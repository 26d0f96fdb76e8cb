import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { atRunEnd } from "./cleanup.ts";

const root = path.resolve(import.meta.dir, "../..");
/** The flags of `npm run build`, read from package.json so the tested binary is built exactly like dist/app. */
const BUILD_FLAGS = pkg.scripts.build.split(" ").filter((word) => word.startsWith("--") && word !== "--outfile");
let built: Promise<string> | undefined;

/**
 * The compiled single-file binary, built once per test run into a temp dir (removed at exit)
 * exactly as `npm run build` builds dist/app (its flags read from package.json).
 */
export function compiledApp(): Promise<string> {
  built ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bin-"));
    atRunEnd(() => fs.rmSync(dir, { recursive: true, force: true }));
    const outfile = path.join(dir, "app");
    const proc = Bun.spawn([process.execPath, "build", ...BUILD_FLAGS, "src/cli/index.ts", "--outfile", outfile], {
      cwd: root, stdout: "pipe", stderr: "pipe",
    });
    if ((await proc.exited) !== 0) throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
    return outfile;
  })();
  return built;
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

/** Polls `url` until it answers (any status) or `timeoutMs` passes. */
export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await Bun.sleep(50);
    }
  }
}
