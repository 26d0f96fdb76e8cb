/**
 * The layers of docs/architecture.md, enforced: every import in src/ and scripts_server/ goes
 * down (or sideways within its layer's rules), never up, and no two folders import each other.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "bun:test";

const ROOT = path.resolve(import.meta.dir, "../..");

/** Layers from the bottom; a module may import its own layer (sideways rules below) and any lower one. */
const LAYERS: { name: string; modules: string[] }[] = [
  { name: "foundation", modules: ["src/errors.ts", "src/clock.ts", "src/logger.ts", "src/config.ts", "src/secrets.ts", "src/version.ts", "src/validation.ts", "src/text/", "src/changes.ts", "src/actor.ts", "src/signature.ts", "src/exit-codes.ts", "src/tokens.ts", "db/schema/", "package.json"] },
  { name: "domain", modules: ["src/schedule/", "src/lifecycle/"] },
  { name: "data", modules: ["src/store/", "db/migrations.ts", "db/migrations/"] },
  { name: "services", modules: ["src/jobs/", "src/users/", "src/runner/", "src/watchdog/", "src/reads/"] },
  { name: "composition", modules: ["src/runtime.ts"] },
  { name: "transports", modules: ["src/trpc/", "src/server/", "src/cli/", "scripts_server/"] },
  { name: "entry", modules: ["src/server-lib.ts"] },
];

/** Folders of one layer that must not import each other in this direction. */
const FORBIDDEN_SIDEWAYS: [from: string, to: string, why: string][] = [
  ["src/trpc/", "src/server/", "the server mounts tRPC, never the reverse"],
  ["src/trpc/", "src/cli/", "transports meet in the runtime, not in each other"],
  ["src/trpc/", "scripts_server/", "transports meet in domain modules (src/watchdog/)"],
  ["scripts_server/", "src/cli/", "exit codes live in src/exit-codes.ts"],
  ["scripts_server/", "src/server/", "scripts talk to the server over HTTP"],
  ["scripts_server/", "src/trpc/", "scripts talk to the server over HTTP"],
  ["src/server/", "src/cli/", "the CLI starts the server, never the reverse"],
  ["src/jobs/", "src/runner/", "the runner runs jobs; jobs do not drive the runner"],
  ["src/store/", "src/jobs/", "the store holds rows; it knows no job code"],
];

/** The browser bundle and the published client: code only from themselves and pure modules; types from anywhere. */
const BUNDLES: { dir: string; mayImport: string[] }[] = [
  // src/schedule/ is pure (croner only): the form previews schedules in the browser with it.
  // src/text/change-summary.ts is pure (no imports): the job page words the audit log with it, as the CLI does.
  { dir: "src/dashboard/", mayImport: ["src/dashboard/", "src/schedule/", "src/reads/run-buckets.ts", "src/text/change-summary.ts"] },
  { dir: "src/client.ts", mayImport: ["src/signature.ts"] },
];

interface Edge { from: string; to: string; typeOnly: boolean }

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

function importsOf(file: string): Edge[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const edges: Edge[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
  for (const m of text.matchAll(pattern)) {
    const spec = m[3] ?? m[4]!;
    if (!spec.startsWith(".")) continue;
    edges.push({ from: file, to: path.normalize(path.join(path.dirname(file), spec)), typeOnly: m[2] !== undefined });
  }
  return edges;
}

const within = (file: string, module: string) => (module.endsWith("/") ? file.startsWith(module) : file === module);
const layerOf = (file: string) => LAYERS.findIndex((l) => l.modules.some((m) => within(file, m)));
const folderOf = (file: string) => LAYERS.flatMap((l) => l.modules).find((m) => within(file, m)) ?? file;

const files = [...sourceFiles("src"), ...sourceFiles("scripts_server")];
const edges = files.flatMap(importsOf);

describe("the layers of docs/architecture.md", () => {
  test("every source file belongs to a layer or a bundle", () => {
    const unplaced = files.filter((f) => layerOf(f) < 0 && !BUNDLES.some((b) => within(f, b.dir)));
    expect(unplaced).toEqual([]);
  });

  test("no import goes up a layer", () => {
    const upward = edges.filter((e) => !BUNDLES.some((b) => within(e.from, b.dir)) && layerOf(e.to) > layerOf(e.from))
      .map((e) => `${e.from} → ${e.to} (${LAYERS[layerOf(e.from)]!.name} → ${LAYERS[layerOf(e.to)]!.name})`);
    expect(upward).toEqual([]);
  });

  test("folders of one layer import each other only in the allowed direction", () => {
    const sideways = edges.flatMap((e) => FORBIDDEN_SIDEWAYS.filter(([from, to]) => within(e.from, from) && within(e.to, to))
      .map(([, , why]) => `${e.from} → ${e.to}: ${why}`));
    expect(sideways).toEqual([]);
  });

  test("no two folders import each other (no cycle between folders)", () => {
    const pairs = new Set(edges.map((e) => `${folderOf(e.from)}|${folderOf(e.to)}`));
    const cycles = [...pairs].map((p) => p.split("|") as [string, string])
      .filter(([a, b]) => a !== b && pairs.has(`${b}|${a}`) && a < b).map(([a, b]) => `${a} ↔ ${b}`);
    expect(cycles).toEqual([]);
  });

  test("the browser bundle and the published client load no server code (types only)", () => {
    const leaks = edges.filter((e) => !e.typeOnly).flatMap((e) => BUNDLES.filter((b) => within(e.from, b.dir) && !b.mayImport.some((m) => within(e.to, m)))
      .map(() => `${e.from} → ${e.to}`));
    expect(leaks).toEqual([]);
  });

  test("the check sees the imports it judges (it would fail on a planted upward import)", () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: "src/runtime.ts", to: "src/runner/runner.ts", typeOnly: false });
    const planted: Edge = { from: "src/lifecycle/lifecycle.ts", to: "src/server/app.ts", typeOnly: false };
    expect(layerOf(planted.to) > layerOf(planted.from)).toBe(true);
  });
});
