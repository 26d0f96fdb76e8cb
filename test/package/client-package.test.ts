/**
 * The client outside this repository (#15.15, SPEC §7): `npm pack` (whose `prepack` builds
 * the compiled client and its declarations), the tarball installed into a plain Node project,
 * and `import { createClient, verifySignature } from "cronjobs"` calling a running server from
 * Node 20, from Bun, from a bundle, and type-checked by tsc.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HttpJob } from "../../src/jobs/http-job.ts";
import { buildApp } from "../../src/server/app.ts";
import { createSigner } from "../../src/signature.ts";
import { atRunEnd } from "../support/cleanup.ts";
import { onCleanup } from "../support/db.ts";
import { ADMIN_TOKEN, freshDeps } from "../trpc/support.ts";

const root = path.resolve(import.meta.dir, "../..");
const tsc = path.join(root, "node_modules/typescript/bin/tsc");
let project: string;

async function sh(cmd: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

async function ok(cmd: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const result = await sh(cmd, cwd, env);
  if (result.code !== 0) throw new Error(`${cmd.join(" ")} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

/** What the consumer's script does with the client: a create, a list, a run, a signature check. */
const SCRIPT = `
import { createClient, verifySignature, TRPCClientError } from "cronjobs";
const [url, token, secret, header, body] = process.argv.slice(2);
const cron = createClient({ url, token });
const job = await cron.jobs.create.mutate({ name: "noop", intervalMinutes: 5 });
const { items } = await cron.jobs.list.query({});
const run = await cron.jobs.runNow.mutate({ id: job.id });
let rejected = "";
try { await cron.jobs.create.mutate({ name: "bad", intervalMinutes: 0 }); } catch (err) { rejected = err instanceof TRPCClientError ? err.data?.code : "other"; }
const signed = await verifySignature({ secret, header, body });
const tampered = await verifySignature({ secret, header, body: body + " " });
await cron.jobs.delete.mutate({ id: job.id });
console.log(JSON.stringify({ id: job.id, listed: items.map((j) => j.id), status: run.status, rejected, signed, tampered }));
`;

const CHECK = `
import { createClient, verifySignature, type JobView, type RunView } from "cronjobs";
export async function check(url: string, token: string): Promise<number> {
  const cron = createClient({ url, token });
  const job: JobView = await cron.jobs.create.mutate({ name: "noop", intervalMinutes: 5 });
  const runs: RunView[] = (await cron.runs.list.query({ jobId: job.id })).items;
  const ok: boolean = await verifySignature({ secret: "s", header: null, body: "" });
  // @ts-expect-error: the types are the router's, not \`any\`: there is no such field
  await cron.jobs.create.mutate({ nme: "noop", intervalMinutes: 5 });
  // @ts-expect-error: an id is a number
  const id: string = job.id;
  return runs.length + (ok ? 1 : 0) + id.length;
}
`;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cronjobs-package-"));
  atRunEnd(() => fs.rmSync(dir, { recursive: true, force: true }));
  // prepack's build prints before npm's JSON.
  const printed = await ok(["npm", "pack", "--json", "--pack-destination", dir], root);
  const packed = JSON.parse(printed.slice(printed.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(["dist/client/client.js", "dist/types/src/client.d.ts", "src/server-lib.ts"]));
  expect(files.some((f) => f.startsWith("test/") || f.startsWith("bench/"))).toBe(false);
  project = path.join(dir, "consumer");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  // From the registry, or from npm's cache when it has them; peers (typescript) are not needed.
  await ok(["npm", "install", path.join(dir, packed[0]!.filename), "--prefer-offline", "--no-audit", "--no-fund", "--legacy-peer-deps"], project);
  fs.writeFileSync(path.join(project, "script.mjs"), SCRIPT);
  fs.writeFileSync(path.join(project, "check.ts"), CHECK);
  fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, skipLibCheck: true, lib: ["ES2022", "DOM"] },
    files: ["check.ts"],
  }));
}, 240_000);

/** A running server, and the arguments of the consumer's script against it. */
async function serverArgs(): Promise<string[]> {
  const env = freshDeps([new HttpJob({ signingSecret: "package-signing-secret-0123" })]);
  const app = buildApp({ ...env.deps }).listen({ hostname: "127.0.0.1", port: 0 });
  onCleanup(async () => { await app.stop(true); });
  const body = '{"hello":"app"}';
  const header = await createSigner("package-signing-secret-0123")(Math.floor(Date.now() / 1000), body);
  return [`http://127.0.0.1:${app.server!.port}`, ADMIN_TOKEN, "package-signing-secret-0123", header, body];
}

const expected = { status: "succeeded", rejected: "BAD_REQUEST", signed: true, tampered: false };

describe("the packed client in a plain project", () => {
  test("the installed package holds compiled JavaScript and declarations, no TypeScript needed", () => {
    const installed = path.join(project, "node_modules/cronjobs");
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
    expect(manifest.exports["."]).toMatchObject({ types: "./dist/types/src/client.d.ts", import: "./dist/client/client.js" });
    expect(fs.existsSync(path.join(installed, manifest.exports["."].import))).toBe(true);
    expect(fs.existsSync(path.join(installed, manifest.exports["."].types))).toBe(true);
  });

  test("Node 20 imports it and calls a running server", async () => {
    const out = JSON.parse(await ok(["node", "script.mjs", ...await serverArgs()], project));
    expect(out).toMatchObject(expected);
    expect(out.listed).toContain(out.id);
  }, 60_000);

  test("Bun imports it and calls a running server", async () => {
    expect(JSON.parse(await ok([process.execPath, "script.mjs", ...await serverArgs()], project))).toMatchObject(expected);
  }, 60_000);

  test("a bundler bundles it: for Node (run), and for the browser (no Node built-ins)", async () => {
    await ok([process.execPath, "build", "script.mjs", "--target=node", "--outfile", "bundle.mjs"], project);
    expect(JSON.parse(await ok(["node", "bundle.mjs", ...await serverArgs()], project))).toMatchObject(expected);
    fs.writeFileSync(path.join(project, "browser.mjs"), 'import { createClient, verifySignature } from "cronjobs";\nglobalThis.x = [createClient, verifySignature];\n');
    await ok([process.execPath, "build", "browser.mjs", "--target=browser", "--outfile", "browser-bundle.js"], project);
    expect(fs.readFileSync(path.join(project, "browser-bundle.js"), "utf8")).not.toMatch(/from\s*"node:|require\("node:/);
  }, 60_000);

  test("tsc type-checks a consumer against the router's real types", async () => {
    const result = await sh(["node", tsc, "-p", "."], project);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);
});
