/**
 * `app notify-stale`: the freshness watchdog (SPEC §8). Reads the sources, compares them with
 * its state in `freshness/`, and notifies on changes and at the reminder interval.
 */
import fs from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { EXIT } from "../src/exit-codes.ts";
import { systemClock, type Clock } from "../src/clock.ts";
import type { Config } from "../src/config.ts";
import { AppError, errorMessage as rawErrorMessage } from "../src/errors.ts";
import type { Store } from "../src/store/store.ts";
import { escapeControl } from "../src/text/escape.ts";
import { evaluateFreshness, formatTime, readFreshnessSources, type FreshnessCheck, type FreshnessLimits, type FreshnessStore, type SourceName } from "../src/watchdog/check.ts";
import { ensureDir, FRESHNESS_FILES, readJsonFile, writeFileAtomic } from "../src/watchdog/files.ts";
import { acquireLock } from "./lock-file.ts";
import { sendCommand, sendPing, sendWebhook, type Channels } from "./notify-channels.ts";
import { asNotifyState, composeMessage, decideEvents, initialState, type ChannelName, type NotifyState, type PendingMessage } from "../src/watchdog/notify-state.ts";

export interface NotifyStaleOptions extends Channels {
  limits: FreshnessLimits;
  remindEveryMs: number;
  /** Also write each message to stderr (crontab mails it). */
  stderr: boolean;
  /** Heartbeat URL, fetched after each completed check. */
  ping?: string | undefined;
  skip: ReadonlySet<SourceName>;
  /** Print every check on stdout. */
  verbose: boolean;
}

export interface NotifyStaleDeps {
  clock?: Clock;
  /** Where stderr output goes (default: the process's stderr). */
  stderr?: (text: string) => void;
  stdout?: (text: string) => void;
  /** The environment given to the notify command. */
  env?: Record<string, string | undefined>;
}

/** An error's message as one printable line: control characters (from a job's error, a receiver's answer) escaped. */
const errorMessage = (error: unknown) => escapeControl(rawErrorMessage(error));

/** Undelivered messages kept per channel; older ones are dropped past this. */
const MAX_PENDING = 50;
/** Deliveries stop after this long, so one run ends well before the next minute. */
const DELIVERY_BUDGET_MS = 30_000;
const DELAYED_AFTER_MS = 90_000;

/** One check; answers 0 all fresh, 1 something stale, 2 it could not check. */
export async function runNotifyStale(config: Config, options: NotifyStaleOptions, deps: NotifyStaleDeps = {}): Promise<number> {
  const clock = deps.clock ?? systemClock;
  const err = deps.stderr ?? ((text: string) => void process.stderr.write(text));
  const out = deps.stdout ?? ((text: string) => void process.stdout.write(text));
  const dir = config.freshnessDir;
  const stateFile = path.join(dir, FRESHNESS_FILES.notifyState);
  ensureDir(dir);

  const lock = acquireLock(path.join(dir, FRESHNESS_FILES.notifyLock), { now: clock.now() });
  if (!lock.acquired) {
    err(`notify-stale: could not check: another notify-stale run is in progress${lock.holder ? ` (pid ${lock.holder.pid})` : ""}\n`);
    return EXIT.UNUSABLE;
  }
  try {
    const now = clock.now();
    const state = loadState(stateFile, now, err);
    let checks: FreshnessCheck[];
    try {
      checks = await check(config, options, now, Date.parse(state.watchingSince), failingBefore(state));
    } catch (error) {
      err(`notify-stale: could not check: ${errorMessage(error)}\n`);
      return EXIT.UNUSABLE;
    }
    const decided = decideEvents(state, checks, now, options.remindEveryMs);
    const next = decided.state;
    const channels = configuredChannels(options);
    next.pending = next.pending.filter((m) => channels.includes(m.channel));
    if (decided.events.length > 0) {
      const text = composeMessage(decided.events, hostname(), now);
      if (options.stderr) err(`${text}\n`);
      for (const channel of channels) {
        next.pending.push({ channel, createdAt: new Date(now).toISOString(), text, events: decided.events, attempts: 0, lastError: null });
      }
    }
    next.pending = await deliver(trim(next.pending, err), options, clock, err, deps.env ?? process.env);
    writeFileAtomic(stateFile, `${JSON.stringify(next, null, 2)}\n`, 0o600);

    if (options.verbose) {
      for (const c of checks) out(`${c.status} ${c.name} (age ${c.ageSeconds ?? "-"} s, max ${c.maxAgeSeconds} s): ${escapeControl(c.detail)}\n`);
    }
    if (options.ping) await sendPing(options.ping).catch((error) => err(`notify-stale: ${errorMessage(error)}\n`));
    return checks.some((c) => c.status === "stale") ? EXIT.FAILED : EXIT.OK;
  } finally {
    lock.release();
  }
}

/** The jobs the state holds as failing: the ones to tell about when they recover. */
function failingBefore(state: NotifyState): number[] {
  return Object.entries(state.sources)
    .filter(([key, source]) => key.startsWith("failing_jobs/") && source.status === "stale")
    .map(([key]) => Number(key.slice("failing_jobs/".length)))
    .filter((id) => Number.isInteger(id) && id > 0);
}

async function check(config: Config, options: NotifyStaleOptions, now: number, watchingSince: number, failing: number[]): Promise<FreshnessCheck[]> {
  const read = (store?: FreshnessStore) => readFreshnessSources({
    freshnessDir: config.freshnessDir, store, now, watchingSince, overdueGraceSeconds: options.limits.overdueGraceSeconds,
    failures: options.limits.failures, failingBefore: failing, skip: options.skip,
  });
  const needsDatabase = DATABASE_SOURCES.some((name) => !options.skip.has(name));
  const sources = needsDatabase ? await withStore(config, read) : await read();
  return evaluateFreshness(sources, now, options.limits);
}

const DATABASE_SOURCES: SourceName[] = ["overdue_jobs", "dead_jobs", "failing_jobs"];

/** Opens the database for the job sources; a database that is missing or fails is "could not check". */
async function withStore<T>(config: Config, fn: (store: FreshnessStore) => Promise<T>): Promise<T> {
  const where = config.backend === "sqlite" ? config.databaseUrl : "the PostgreSQL database";
  // Opening a SQLite path that does not exist would create an empty database and report it fresh.
  if (config.backend === "sqlite" && config.databaseUrl !== ":memory:" && !fs.existsSync(config.databaseUrl)) {
    throw new AppError("UNAVAILABLE", `the database ${where} does not exist (check DATABASE_URL)`);
  }
  const { openStore } = await import("../src/store/open-store.ts");
  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    throw new AppError("UNAVAILABLE", `cannot open the database ${where}: ${errorMessage(error)}`, { cause: error });
  }
  const guard = async <R>(read: () => Promise<R>): Promise<R> => {
    try {
      return await read();
    } catch (error) {
      throw new AppError("UNAVAILABLE", `cannot read the database ${where}: ${errorMessage(error)}`, { cause: error });
    }
  };
  const guarded: FreshnessStore = {
    listJobs: (filter, now) => guard(() => store.listJobs(filter, now)),
    listRuns: (filter) => guard(() => store.listRuns(filter)),
    getJob: (id) => guard(() => store.getJob(id)),
  };
  try {
    return await fn(guarded);
  } finally {
    await store.close();
  }
}

function loadState(file: string, now: number, err: (text: string) => void): NotifyState {
  let value: unknown;
  try {
    value = readJsonFile(file);
  } catch (error) {
    err(`notify-stale: ${errorMessage(error)}; starting a new state\n`);
    return initialState(now);
  }
  if (value === undefined) return initialState(now);
  const state = asNotifyState(value, now);
  if (!state) err(`notify-stale: ${file} is not a notify-stale state; starting a new state\n`);
  return state ?? initialState(now);
}

function configuredChannels(options: Channels): ChannelName[] {
  const channels: ChannelName[] = [];
  if (options.webhook) channels.push("webhook");
  if (options.command) channels.push("command");
  return channels;
}

/** Keeps the newest `MAX_PENDING` messages of each channel. */
function trim(pending: PendingMessage[], err: (text: string) => void): PendingMessage[] {
  const kept: PendingMessage[] = [];
  for (const channel of new Set(pending.map((m) => m.channel))) {
    const mine = pending.filter((m) => m.channel === channel);
    if (mine.length > MAX_PENDING) err(`notify-stale: dropping ${mine.length - MAX_PENDING} undelivered ${channel} message(s)\n`);
    kept.push(...mine.slice(-MAX_PENDING));
  }
  return kept;
}

/**
 * Sends the pending messages in order, per channel; the first failure on a channel leaves it
 * and the ones after it for the next run. A failure is reported on stderr once per message.
 */
async function deliver(pending: PendingMessage[], options: NotifyStaleOptions, clock: Clock, err: (text: string) => void, env: Record<string, string | undefined>): Promise<PendingMessage[]> {
  const deadline = clock.now() + DELIVERY_BUDGET_MS;
  const failed = new Set<ChannelName>();
  const left: PendingMessage[] = [];
  for (const message of pending) {
    if (failed.has(message.channel) || clock.now() > deadline) {
      left.push(message);
      continue;
    }
    const created = Date.parse(message.createdAt);
    const text = clock.now() - created > DELAYED_AFTER_MS ? `(delayed, written ${formatTime(created)}) ${message.text}` : message.text;
    try {
      if (message.channel === "webhook") await sendWebhook(options.webhook!, text, message.events);
      else await sendCommand(options.command!, text, env);
    } catch (error) {
      failed.add(message.channel);
      const attempts = message.attempts + 1;
      if (attempts === 1) err(`notify-stale: ${message.channel} notification failed, will retry on the next run: ${errorMessage(error)}\n`);
      left.push({ ...message, attempts, lastError: errorMessage(error) });
    }
  }
  return left;
}
