/**
 * Start-up cost of `app cron-runner`, paid every minute from crontab: wall time of one run
 * against a live server with nothing due, beside bare compiled Bun binaries, all measured here
 * in the same run: one that prints a line, `app --version` (the runtime and the CLI, nothing
 * else), and two that do only the work — the same POST with `fetch`, then that POST and the
 * marker written the same atomic way (an exclusively created temporary with a random name,
 * O_EXCL|O_NOFOLLOW, fsync, rename). The last is the floor for any implementation of this work
 * in Bun. Goal (issue 15.18): `app cron-runner` median ≤ 1.3× that floor.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pkg from "../package.json" with { type: "json" };

const RUNS = 60;
const WARMUP = 5;
const GOAL = 1.3;
const root = path.resolve(import.meta.dir, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-bench-"));

/** The flags of `bun run build` (package.json), so every binary here is built like dist/app. */
const BUILD_FLAGS = pkg.scripts.build.split(" ").filter((word) => word.startsWith("--") && word !== "--outfile");

/** Compiles `entry` as `bun run build` compiles dist/app. */
function compile(entry: string, outfile: string): string {
  const built = Bun.spawnSync([process.execPath, "build", ...BUILD_FLAGS, entry, "--outfile", outfile], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`building ${entry} failed: ${built.stderr.toString()}`);
  return outfile;
}

/** A bare binary from `source`, written beside the others in the temp folder. */
function compileSource(name: string, source: string): string {
  fs.writeFileSync(path.join(tmp, `${name}.ts`), source);
  return compile(path.join(tmp, `${name}.ts`), path.join(tmp, name));
}

// The floor: the same request as `app cron-runner` (secret from the environment), then the
// same marker write, with nothing else loaded.
const POST_SOURCE = `
const response = await fetch(process.env.APP_URL + "/api/cron/run", {
  method: "POST",
  headers: { authorization: "Bearer " + process.env.CRON_SECRET, "content-type": "application/json" },
  body: "",
  signal: AbortSignal.timeout(55_000),
});
const tick = await response.json();
if (typeof tick.claimed !== "number") throw new Error("not a tick");
console.log("%s", "tick " + tick.runId + ": " + tick.claimed + " claimed");
`;
const WRITE_SOURCE = `import fs from "node:fs";
import path from "node:path";
${POST_SOURCE}
const file = path.join(process.env.FRESHNESS_DIR, "cron_runner.json");
const random = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
const temp = path.join(process.env.FRESHNESS_DIR, ".cron_runner.json." + random + ".tmp");
fs.mkdirSync(process.env.FRESHNESS_DIR, { recursive: true });
const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
fs.writeFileSync(fd, JSON.stringify({ version: 1, time: new Date().toISOString(), tick }, null, 2) + "\\n");
fs.fsyncSync(fd);
fs.closeSync(fd);
fs.renameSync(temp, file);
`;

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
const bare = compileSource("hello", 'console.log("hello");\n');
const post = compileSource("post", POST_SOURCE);
const postWrite = compileSource("post-write", WRITE_SOURCE);

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
  // `app cron-runner` reads the secret the server generated, as on a real host; the bare
  // binaries get it in the environment.
  const { cronSecret } = JSON.parse(fs.readFileSync(path.join(tmp, "secrets.json"), "utf8")) as { cronSecret: string };
  const floorEnv = { ...env, FRESHNESS_DIR: path.join(tmp, "floor"), CRON_SECRET: cronSecret };
  const rows: [string, string[], Record<string, string>][] = [
    ["bare compiled Bun binary (prints one line)", [bare], env],
    ["`app --version` (runtime and CLI only)", [app, "--version"], env],
    ["`app cron-runner` (POST, marker written)", [app, "cron-runner"], env],
    ["floor: bare binary, the same POST with `fetch`", [post], floorEnv],
    ["floor: bare binary, the POST and an atomic marker write", [postWrite], floorEnv],
  ];
  const samples = rows.map((): number[] => []);
  for (let i = 0; i < WARMUP; i++) for (const [, cmd, rowEnv] of rows) time(cmd, rowEnv);
  // Interleaved, so drift of the machine affects all alike.
  for (let i = 0; i < RUNS; i++) rows.forEach(([, cmd, rowEnv], j) => samples[j]!.push(time(cmd, rowEnv)));
  const stats = samples.map((xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
  });
  const base = stats[0]!.median;
  console.log(`${RUNS} runs each after ${WARMUP} warm-up runs; app: ${reuse ? "dist/app (reused)" : "built now like \`bun run build\`"}; every binary built with ${BUILD_FLAGS.join(" ")}; server with nothing due.\n`);
  console.log("| command | median ms | p90 ms | median × bare | median × floor |");
  console.log("|---|---:|---:|---:|---:|");
  const floor = stats[4]!.median;
  rows.forEach(([name], j) => console.log(`| ${name} | ${stats[j]!.median.toFixed(1)} | ${stats[j]!.p90.toFixed(1)} | ${(stats[j]!.median / base).toFixed(2)} | ${(stats[j]!.median / floor).toFixed(2)} |`));
  const ratio = stats[2]!.median / stats[4]!.median;
  console.log(`\nGoal: \`app cron-runner\` median ≤ ${GOAL}× the floor (the bare binary doing the POST and the atomic marker write) — ${ratio <= GOAL ? "met" : "NOT met"} (${ratio.toFixed(2)}×).`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  fs.rmSync(tmp, { recursive: true, force: true });
}
