/**
 * `app cron-runner`'s fast path (src/cli/commands/cron-runner-fast.ts) must be the same command
 * as the citty one: the same flags, the same configuration where it takes over, and everything
 * it does not take left to the full path.
 */
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { FAST_SETTINGS, plainConfig, plainFlags } from "../../src/cli/commands/cron-runner-fast.ts";
import { cronRunnerArgs } from "../../src/cli/commands/cron-runner-args.ts";
import { RUNNER_SETTINGS } from "../../src/cli/args.ts";
import { loadConfig, type SettingValues } from "../../src/config.ts";
import { tempDir } from "../support/db.ts";
import { SECRETS } from "../support/server.ts";
import { ROOT, runCli, startCronServer } from "./support.ts";

const SECRET = "a-cron-secret-of-32-characters!!";

describe("app cron-runner's fast path", () => {
  test("reads the same settings and flags as the citty command", () => {
    expect([...FAST_SETTINGS]).toEqual([...RUNNER_SETTINGS]);
    const stringFlags = Object.entries(cronRunnerArgs).filter(([, def]) => def.type === "string").map(([name]) => name).sort();
    const plain = stringFlags.map((flag) => [`--${flag}`, "1"]).flat();
    expect(plainFlags(plain)).toBeDefined();
    expect(Object.keys(cronRunnerArgs).filter((name) => !stringFlags.includes(name))).toEqual(["local"]);
  });

  test.each<[string, SettingValues]>([
    ["nothing set (defaults)", {}],
    ["a crontab line's environment", { DATABASE_URL: "/srv/app/data/app.db", APP_URL: "http://127.0.0.1:3000", FRESHNESS_DIR: "/srv/app/freshness", CRON_SECRET: SECRET }],
    ["relative paths", { DATABASE_URL: "data/app.db", FRESHNESS_DIR: "fresh" }],
    ["HOST and PORT give the URL", { HOST: "0.0.0.0", PORT: "8080" }],
    ["a host name, an https URL with a path and a trailing slash", { HOST: "app.internal", APP_URL: "https://cron.example.com/base/" }],
    ["port 0", { PORT: "0" }],
  ])("plain settings: the same Config as loadConfig — %s", (_, settings) => {
    expect(plainConfig(settings, {})).toEqual(loadConfig(settings, {}));
    expect(plainConfig({}, settings)).toEqual(loadConfig({}, settings)); // from the environment as from flags
  });

  test.each<[string, SettingValues]>([
    ["PostgreSQL", { DATABASE_URL: "postgres://u:p@db/app" }],
    ["a sqlite: form", { DATABASE_URL: "sqlite:data/app.db" }],
    [":memory:", { DATABASE_URL: ":memory:" }],
    ["an empty value", { FRESHNESS_DIR: "" }],
    ["a bad PORT", { PORT: "80a" }],
    ["PORT out of range", { PORT: "70000" }],
    ["a leading zero", { PORT: "080" }],
    ["an IPv6 HOST", { HOST: "::1" }],
    ["an APP_URL with a query", { APP_URL: "http://127.0.0.1:1/?a=b" }],
    ["an APP_URL that is not http", { APP_URL: "ftp://example.com" }],
    ["a short CRON_SECRET", { CRON_SECRET: "short" }],
    ["a setting it does not read", { ADMIN_TOKEN: "an-admin-token-0123456789" }],
    ["DB_POOL_SIZE", { DB_POOL_SIZE: "0" }],
  ])("anything else is left to loadConfig (it accepts or refuses): %s", (_, settings) => {
    expect(plainConfig(settings, {})).toBeUndefined();
  });

  test("plain command lines only; the rest goes the citty way", () => {
    expect(plainFlags([])).toEqual({ settings: {}, limit: undefined });
    expect(plainFlags(["--app-url", "http://x:1", "--limit=5", "--freshness-dir=/f"])).toEqual({ settings: { APP_URL: "http://x:1", FRESHNESS_DIR: "/f" }, limit: "5" });
    for (const argv of [["--help"], ["-h"], ["--local"], ["--limit"], ["--limit", "-1"], ["--prot", "1"], ["--limit", "1", "--limit", "2"], ["extra"], ["--app-url"]]) {
      expect(plainFlags(argv)).toBeUndefined();
    }
  });

  test("the command answers the same either way: a bad flag or value is one line naming it (exit 2), --help prints the usage", async () => {
    const server = startCronServer();
    const env = { CRON_SECRET: SECRETS.cronSecret };
    const fresh = tempDir();
    const fast = await runCli(["cron-runner", "--app-url", server.url, "--freshness-dir", fresh], env);
    expect(fast).toMatchObject({ code: 0, stderr: "" });
    expect(fast.stdout).toMatch(/^tick \S+: 0 claimed/);
    // Through the full path (a `sqlite:` DATABASE_URL is not plain, but valid): the same answer.
    const full = await runCli(["cron-runner", "--app-url", server.url, "--freshness-dir", fresh, "--database-url", `sqlite:${tempDir()}/app.db`], env);
    expect(full).toMatchObject({ code: 0, stderr: "" });
    expect(full.stdout).toMatch(/^tick \S+: 0 claimed/);
    const limit = await runCli(["cron-runner", "--app-url", server.url, "--limit", "0"], env);
    expect(limit).toMatchObject({ code: 2, stderr: "app: --limit must be a whole number ≥ 1\n" });
    const unknown = await runCli(["cron-runner", "--app-ulr", server.url], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toStartWith("app: unknown flag --app-ulr (did you mean --app-url?)");
    const port = await runCli(["cron-runner", "--port", "99999"], env);
    expect(port).toMatchObject({ code: 2, stderr: "app: bad configuration: PORT must be between 0 and 65535\n" });
    const help = await runCli(["cron-runner", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--limit");
  });

  test("loads neither citty nor zod: not in the module graph of the fast path, nor statically in the binary's entry", async () => {
    const fast = await Bun.build({ entrypoints: [path.join(ROOT, "src/cli/commands/cron-runner-fast.ts")], target: "bun" });
    expect(fast.success).toBe(true);
    const code = await fast.outputs[0]!.text();
    for (const heavy of ["node_modules/citty", "node_modules/zod", "src/config.ts", "node_modules/elysia", "node_modules/drizzle-orm", "node_modules/@trpc"]) {
      expect(code).not.toContain(heavy);
    }
    const entry = await Bun.build({ entrypoints: [path.join(ROOT, "src/cli/index.ts")], target: "bun", splitting: true, outdir: tempDir() });
    expect(entry.success).toBe(true);
    const main = await entry.outputs.find((o) => o.kind === "entry-point")!.text();
    expect(main).not.toContain("node_modules/citty");
    expect(main).not.toContain("node_modules/zod");
  });
});
