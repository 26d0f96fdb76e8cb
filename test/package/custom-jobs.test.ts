/**
 * The server as a library (SPEC §3.1): examples/custom-jobs/app.ts compiled with
 * `bun build --compile` into its own binary, whose `serve` runs the example's job type and the
 * built-in `http` job through POST /api/cron/run.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import fs from "node:fs";
import path from "node:path";
import { verifySignature } from "../../src/signature.ts";
import { freePort, waitForHttp } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { atRunEnd } from "../support/cleanup.ts";
import os from "node:os";

const root = path.resolve(import.meta.dir, "../..");
let binary: string;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-custom-"));
  atRunEnd(() => fs.rmSync(dir, { recursive: true, force: true }));
  binary = path.join(dir, "my-app");
  const build = Bun.spawn([process.execPath, "build", "--compile", "examples/custom-jobs/app.ts", "--outfile", binary], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`bun build --compile failed: ${await new Response(build.stderr).text()}`);
}, 120_000);

/** Runs the built binary in `cwd` with only the given environment. */
async function run(args: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn([binary, ...args], { cwd, env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

/** A row written straight into the table, due now: the server notices it (SPEC §2) or the POST below runs it, whichever comes first. */
function insertDueJob(dbFile: string, name: string, jobType: string, payload: unknown): number {
  const db = new Database(dbFile);
  try {
    const row = db.query<{ id: number }, [string, string, string, number]>(
      "INSERT INTO cron_jobs (name, job_type, payload, run_at, next_run_at, is_active) VALUES (?1, ?2, ?3, ?4, ?4, 1) RETURNING id",
    ).get(name, jobType, JSON.stringify(payload), Date.now() - 1000)!;
    return row.id;
  } finally {
    db.close();
  }
}

describe("your own binary from examples/custom-jobs", () => {
  test("serve runs the example's job and the built-in http job through POST /api/cron/run; jobs types lists them", async () => {
    const cwd = tempDir();
    const port = freePort();
    const env = { PORT: String(port) };
    const server = Bun.spawn([binary, "serve"], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
    onCleanup(async () => { server.kill("SIGKILL"); await server.exited; });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    const secrets = JSON.parse(fs.readFileSync(path.join(cwd, "data/secrets.json"), "utf8")) as { cronSecret: string; adminToken: string; jobSigningSecret: string };
    const dbFile = path.join(cwd, "data/app.db");

    const types = await run(["jobs", "types", "--json"], cwd, env);
    expect(types).toMatchObject({ code: 0, stderr: "" });
    expect((JSON.parse(types.stdout) as { type: string }[]).map((t) => t.type)).toEqual(expect.arrayContaining(["purge_old_files", "http", "noop"]));

    // The example's payload schema is the server's: a bad payload is refused by name, through the same CLI.
    const bad = await run(["jobs", "add", "purge", "--type", "purge_old_files", "--every", "60", "--payload", '{"dir":"/tmp"}'], cwd, env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("payload.maxAgeDays");

    const uploads = tempDir();
    const old = path.join(uploads, "old.txt");
    fs.writeFileSync(old, "old");
    fs.utimesSync(old, new Date(Date.now() - 10 * 86_400_000), new Date(Date.now() - 10 * 86_400_000));
    fs.writeFileSync(path.join(uploads, "new.txt"), "new");

    const seen: { headers: Headers; body: string }[] = [];
    const target = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) { seen.push({ headers: req.headers, body: await req.text() }); return new Response("pong"); } });
    onCleanup(() => target.stop(true));

    const purgeId = insertDueJob(dbFile, "purge", "purge_old_files", { dir: uploads, maxAgeDays: 7 });
    const pingId = insertDueJob(dbFile, "ping-app", "http", { url: `http://127.0.0.1:${target.port}/cron/ping`, body: { hello: 1 } });
    const tick = await fetch(`http://127.0.0.1:${port}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${secrets.cronSecret}` } });
    expect(tick.status).toBe(200);
    // The server's own timer may have run them first: the history says how each ran, once.
    const runs = () => {
      const db = new Database(dbFile, { readonly: true });
      try {
        return db.query<{ job_id: number; job_type: string; status: string }, []>("SELECT job_id, job_type, status FROM cron_job_runs ORDER BY job_id").all();
      } finally {
        db.close();
      }
    };
    for (let i = 0; i < 100 && runs().length < 2; i++) await Bun.sleep(50);
    expect(runs()).toEqual([
      { job_id: purgeId, job_type: "purge_old_files", status: "succeeded" },
      { job_id: pingId, job_type: "http", status: "succeeded" },
    ]);
    expect(fs.readdirSync(uploads)).toEqual(["new.txt"]);
    // The binary signs with the secret it generated beside the others.
    expect(seen).toHaveLength(1);
    expect(await verifySignature({ secret: secrets.jobSigningSecret, header: seen[0]!.headers.get("x-cronjobs-signature"), body: seen[0]!.body })).toBe(true);
    expect(seen[0]!.headers.get("x-cronjobs-job-id")).toBe(String(pingId));

    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 60_000);

  test("a job type named like a built-in is refused at start with one line", async () => {
    // A project of its own that depends on this package.
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.symlinkSync(root, path.join(dir, "node_modules/cronjobs"));
    const file = path.join(dir, "app.ts");
    fs.writeFileSync(file, `import { defineJob, main } from "cronjobs/server";\nawait main({ jobs: [defineJob({ type: "http", description: "mine", run: async () => {} })] });\n`);
    const proc = Bun.spawn([process.execPath, file, "jobs", "types"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('app: job type "http" is built in: give your job another type');
  }, 30_000);
});
