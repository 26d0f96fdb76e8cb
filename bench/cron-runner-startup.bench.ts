/**
 * Start-up cost of `app cron-runner`, paid every minute from crontab: wall time of one run
 * against a live server with nothing due, beside a bare compiled Bun binary that prints one
 * line, all measured here in the same run. Goal: median ≤ 1.5× the bare binary.
 * `app --version` shows the floor (loading the binary's bundle); a second build with
 * bytecode and code splitting shows what those build flags would give.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const RUNS = 60;
const WARMUP = 5;
const GOAL = 1.5;
const root = path.resolve(import.meta.dir, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-"));

const BUILD_FLAGS = ["--compile", "--minify", "--sourcemap"];
const FAST_START_FLAGS = [...BUILD_FLAGS, "--bytecode", "--splitting", "--format=esm"];

/** Compiles `entry` as `bun run build` compiles dist/app (or with `flags`). */
function compile(entry: string, outfile: string, flags = BUILD_FLAGS): string {
  const built = Bun.spawnSync([process.execPath, "build", ...flags, entry, "--outfile", outfile], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`building ${entry} failed: ${built.stderr.toString()}`);
  return outfile;
}

function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await Bun.sleep(50);
  }
  throw new Error(`${url} did not come up`);
}

/** Wall time of one run, in milliseconds; the command must exit 0. */
function time(cmd: string[], env: Record<string, string>): number {
  const started = performance.now();
  const run = Bun.spawnSync(cmd, { env, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${run.exitCode}: ${run.stderr.toString()}`);
  return ms;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const dist = path.join(root, "dist", "app");
const reuse = fs.existsSync(dist);
const app = reuse ? dist : compile("src/cli/index.ts", path.join(tmp, "app"));
fs.writeFileSync(path.join(tmp, "hello.ts"), 'console.log("hello");\n');
const bare = compile(path.join(tmp, "hello.ts"), path.join(tmp, "hello"));
const fast = compile("src/cli/index.ts", path.join(tmp, "app-fast"), FAST_START_FLAGS);

const port = freePort();
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  DATABASE_URL: path.join(tmp, "app.db"),
  PORT: String(port),
  APP_URL: `http://127.0.0.1:${port}`,
  FRESHNESS_DIR: path.join(tmp, "freshness"),
};
const server = Bun.spawn([app, "serve"], { env, stdout: "ignore", stderr: "ignore" });
try {
  await waitForHealth(`${env.APP_URL}/healthz`);
  const rows: [string, string[]][] = [
    ["bare compiled Bun binary (prints one line)", [bare]],
    ["`app --version` (loading the bundle)", [app, "--version"]],
    ["`app cron-runner` (POST, marker written)", [app, "cron-runner"]],
    [`\`app --version\`, built with ${FAST_START_FLAGS.slice(3).join(" ")}`, [fast, "--version"]],
    [`\`app cron-runner\`, built with ${FAST_START_FLAGS.slice(3).join(" ")}`, [fast, "cron-runner"]],
  ];
  const samples = rows.map((): number[] => []);
  for (let i = 0; i < WARMUP; i++) for (const [, cmd] of rows) time(cmd, env);
  // Interleaved, so drift of the machine affects all alike.
  for (let i = 0; i < RUNS; i++) rows.forEach(([, cmd], j) => samples[j]!.push(time(cmd, env)));
  const stats = samples.map((xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
  });
  const base = stats[0]!.median;
  console.log(`${RUNS} runs each after ${WARMUP} warm-up runs; app: ${reuse ? "dist/app (reused)" : "built now like \`bun run build\`"}; server with nothing due.\n`);
  console.log("| command | median ms | p90 ms | median × bare |");
  console.log("|---|---:|---:|---:|");
  rows.forEach(([name], j) => console.log(`| ${name} | ${stats[j]!.median.toFixed(1)} | ${stats[j]!.p90.toFixed(1)} | ${(stats[j]!.median / base).toFixed(2)} |`));
  const ratio = stats[2]!.median / base;
  console.log(`\nGoal: \`app cron-runner\` median ≤ ${GOAL}× the bare binary — ${ratio <= GOAL ? "met" : `NOT met (${ratio.toFixed(2)}×)`}.`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  fs.rmSync(tmp, { recursive: true, force: true });
}
