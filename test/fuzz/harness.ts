/**
 * The fuzzer's bench: the real app (`buildApp`) over a real database (a SQLite file in a temp
 * dir, or a fresh PostgreSQL database), driven through `app.handle(request)`; a canonical dump
 * of the whole database to prove that a rejected request changed nothing; a count of the
 * store's calls to prove that a refused caller reached no database; and the checks every
 * answer must pass.
 */
import { expect } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { defaultRegistry } from "../../src/jobs/registry.ts";
import type { Logger } from "../../src/logger.ts";
import { buildApp } from "../../src/server/app.ts";
import type { Store } from "../../src/store/store.ts";
import { T0, tempDir } from "../support/db.ts";
import { SECRETS } from "../support/server.ts";
import { openDatabase, type Backend } from "./databases.ts";
import { seedDatabase } from "./seed.ts";
import { testRuntime } from "../support/runtime.ts";

export { SECRETS, T0 };

/** `FUZZ_SEED=<n>` replays a run; fast-check prints the seed and path of any failure. */
export const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20260105);
/** `FUZZ_SCALE=<k>` runs every property k times as long (a deeper search than the default). */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));

/** fast-check parameters of the property numbered `n`: its own seed, `numRuns` runs (times the scale). */
export function runsOf(n: number, numRuns: number) {
  return { seed: BASE_SEED + n, numRuns: Math.round(numRuns * SCALE) };
}

/**
 * Requests each file must send; together at least 10,000. Each file asserts its own count
 * (counted as sent, not computed), and the total is checked here, once.
 */
export const REQUEST_BUDGET = {
  cronRoute: 2_600,
  trpcInputs: 3_600,
  trpcTransport: 2_400,
  auth: 2_000,
} as const;
const total = Object.values(REQUEST_BUDGET).reduce((a, b) => a + b, 0);
if (total < 10_000) throw new Error(`the fuzz budget is ${total} requests, below 10,000`);

const sent: Record<string, number> = {};

/** Requests sent so far under `label`. */
export function requestsSent(label: string): number {
  return sent[label] ?? 0;
}

/** The real store behind a proxy that counts every method call: the proof of "no database access". */
function countCalls(store: Store) {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/** One answer, read in full. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
  /** The body parsed: one JSON value, or each line of a JSONL stream. */
  body: unknown;
  /** Every call of the request was refused (a batch counts as refused only if all its calls were). */
  rejected: boolean;
  /** The error codes in the answer (HTTP-level `error.code`, tRPC `error.data.code`). */
  codes: string[];
}

/** A fresh database with seed rows, the app over it, and the checks of each request. */
export async function fuzzBench(label: string, backend: Backend = "sqlite") {
  const database = await openDatabase(backend);
  const counted = countCalls(database.store);
  const errors: string[] = [];
  const logger: Logger = { info() {}, warn() {}, error: (msg, fields) => { errors.push(`${msg} ${JSON.stringify(fields)}`); } };
  const clock = new ManualClock(T0);
  const registry = defaultRegistry();
  const runtime = testRuntime(counted.store, { clock, registry, logger, runner: { runnerName: "fuzz/1", abortGraceMs: 50 } });
  const { runner } = runtime;
  const app = buildApp({ ...runtime, secrets: SECRETS, freshnessDir: tempDir() });
  await seedDatabase((request) => app.handle(request), database);
  let baseline = await database.dump();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).join();

  return {
    clock,
    storeCalls: counted.calls,
    /**
     * Sends one request and checks what every answer must satisfy: below 500, no stack trace
     * or source path, JSON with an error code when refused, the database unchanged when
     * refused (or whatever the request, when `readOnly`), no error logged, no polluted prototype.
     * `echo` is the request's own text: markers it contains themselves are not leaks.
     */
    async send(request: Request, { echo = "", readOnly = false }: { echo?: string; readOnly?: boolean } = {}): Promise<Answer> {
      sent[label] = (sent[label] ?? 0) + 1;
      const head = request.method === "HEAD";
      const response = await app.handle(request);
      const answer = await readAnswer(response, head);
      const where = `${request.method} ${request.url.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`;
      expect(answer.status, where).toBeLessThan(500);
      expect(answer.codes, where).not.toContain("INTERNAL_SERVER_ERROR");
      expect(leaks(answer.text, echo), where).toEqual([]);
      if (!head) expect(answer.contentType, where).toContain("application/json");
      if (answer.rejected && !head) expect(answer.codes.length, where).toBeGreaterThan(0);
      expect(errors, where).toEqual([]);
      expect(Object.getOwnPropertyNames(Object.prototype).join(), where).toBe(prototypeKeys);
      const after = await database.dump();
      if (answer.rejected || readOnly) expect(after === baseline, `${where}\nthe database changed`).toBe(true);
      baseline = after;
      return answer;
    },
  };
}

export type FuzzBench = Awaited<ReturnType<typeof fuzzBench>>;

/** Things no answer may carry unless the request itself did: stack frames, source paths, internal errors, SQL. */
const LEAK_MARKERS = [
  "    at ", "/src/", ".ts:", ".js:", "node_modules", "file://", '"stack"', "Maximum call stack", "RangeError",
  "TypeError", "is not a function", "Cannot read propert", "undefined is not an object", "SQLITE_", "constraint failed",
  "drizzle", "bun:sqlite", "Failed query", "params:", 'insert into "', 'from "', "syntax error at",
];

export function leaks(text: string, echo: string): string[] {
  return LEAK_MARKERS.filter((marker) => text.includes(marker) && !echo.includes(marker));
}

async function readAnswer(response: Response, head: boolean): Promise<Answer> {
  const text = await response.text();
  const contentType = response.headers.get("content-type") ?? "";
  const base = { status: response.status, contentType, text };
  if (head || text === "") return { ...base, body: undefined, rejected: response.status >= 400, codes: [] };
  let body: unknown;
  let rejected: boolean;
  try {
    body = JSON.parse(text);
    // A batch is refused when none of its calls answered a result; one call, by its status.
    rejected = Array.isArray(body) ? !body.some((call) => containsKey(call, "result", 1)) : response.status >= 400;
  } catch {
    // A JSONL stream (`trpc-accept: application/jsonl`): every line must be JSON.
    const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);
    body = lines;
    rejected = response.status >= 400 || !lines.slice(1).some((line) => containsKey(line, "result", 8));
  }
  return { ...base, body, rejected, codes: collectCodes(body) };
}

function collectCodes(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) collectCodes(item, out);
  else if (value !== null && typeof value === "object") {
    const error = (value as { error?: { code?: unknown; data?: { code?: unknown } } }).error;
    if (error && typeof error === "object") {
      const code = typeof error.data?.code === "string" ? error.data.code : error.code;
      if (typeof code === "string") out.push(code);
    } else for (const item of Object.values(value)) collectCodes(item, out);
  }
  return out;
}

/** Whether `value` or something within `depth` levels of it has the own key `key`. */
function containsKey(value: unknown, key: string, depth: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (!Array.isArray(value) && Object.hasOwn(value, key)) return true;
  return depth > 0 && Object.values(value).some((item) => containsKey(item, key, depth - 1));
}
