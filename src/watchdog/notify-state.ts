/**
 * The watchdog's memory (`freshness/notify_stale_state.json`) and what it decides from it:
 * notify on each change of state, remind at an interval while stale, never once a minute.
 */
import { escapeControl } from "../text/escape.ts";
import { formatAge, formatTime, type FreshnessCheck, type FreshnessStatus } from "./check.ts";

export type ChannelName = "webhook" | "command";

/** What the state remembers of a source, or of one item of a source (key `failing_jobs/12`). */
export interface SourceState {
  status: FreshnessStatus;
  /** When it entered this status. */
  since: string;
  /** When a message last told about it (stale or reminder). */
  lastNotifiedAt: string | null;
  detail: string;
}

/** What a notification says, per source. */
export interface NotifyEvent {
  source: string;
  change: "stale" | "recovered" | "reminder";
  detail: string;
  /** Stale since (for reminders and recoveries). */
  since: string;
}

/** A message not yet delivered on one channel; it is retried on the next run. */
export interface PendingMessage {
  channel: ChannelName;
  createdAt: string;
  text: string;
  events: NotifyEvent[];
  attempts: number;
  lastError: string | null;
}

export interface NotifyState {
  version: 1;
  /** First run of the watchdog: missing sources get their max age from here. */
  watchingSince: string;
  lastCheckAt: string | null;
  sources: Record<string, SourceState>;
  pending: PendingMessage[];
}

export function initialState(now: number): NotifyState {
  return { version: 1, watchingSince: new Date(now).toISOString(), lastCheckAt: null, sources: {}, pending: [] };
}

/** Checks a parsed state file; anything unusable starts afresh (the sources are read anew anyway). */
export function asNotifyState(value: unknown, now: number): NotifyState | undefined {
  const s = value as Partial<NotifyState> | null;
  if (!s || typeof s !== "object" || typeof s.watchingSince !== "string" || Number.isNaN(Date.parse(s.watchingSince))
    || typeof s.sources !== "object" || s.sources === null || !Array.isArray(s.pending)) return undefined;
  return { ...initialState(now), ...s } as NotifyState;
}

/** One thing that notifies on its own: a source, or one item of a source with items. */
interface Unit {
  key: string;
  source: string;
  status: FreshnessStatus;
  detail: string;
}

function unitsOf(checks: FreshnessCheck[]): Unit[] {
  return checks.flatMap((check): Unit[] => check.items
    ? check.items.map((item) => ({ key: `${check.name}/${item.key}`, source: check.name, status: item.status, detail: item.detail }))
    : [{ key: check.name, source: check.name, status: check.status, detail: check.detail }]);
}

/**
 * Compares the checks with the state: a source (or an item of one, such as one failing job)
 * turning stale or fresh is an event, and while anything is stale, once the reminder interval
 * has passed since the last message about it, every stale one is reminded in one message.
 * A source that never reported (`unknown`) is no event either way.
 */
export function decideEvents(state: NotifyState, checks: FreshnessCheck[], now: number, remindEveryMs: number): { state: NotifyState; events: NotifyEvent[] } {
  const at = new Date(now).toISOString();
  const sources: Record<string, SourceState> = { ...state.sources };
  const units = unitsOf(checks);
  // Items no longer listed are forgotten, unless still stale (their recovery is yet to be told).
  for (const check of checks.filter((c) => c.items)) {
    delete sources[check.name];
    for (const key of Object.keys(sources)) {
      if (key.startsWith(`${check.name}/`) && sources[key]!.status !== "stale" && !units.some((u) => u.key === key)) delete sources[key];
    }
  }
  const events: NotifyEvent[] = [];
  const told = new Set<string>();
  for (const unit of units) {
    const before = sources[unit.key];
    if (unit.status === "stale" && before?.status !== "stale") {
      told.add(unit.key);
      events.push({ source: unit.source, change: "stale", detail: unit.detail, since: at });
      sources[unit.key] = { status: "stale", since: at, lastNotifiedAt: at, detail: unit.detail };
    } else if (unit.status === "fresh" && before?.status === "stale") {
      told.add(unit.key);
      events.push({ source: unit.source, change: "recovered", detail: unit.detail, since: before.since });
      sources[unit.key] = { status: "fresh", since: at, lastNotifiedAt: at, detail: unit.detail };
    } else {
      const since = before && before.status === unit.status ? before.since : at;
      sources[unit.key] = { status: unit.status, since, lastNotifiedAt: before?.lastNotifiedAt ?? null, detail: unit.detail };
    }
  }
  const stillStale = units.filter((u) => u.status === "stale" && !told.has(u.key));
  const reminderDue = stillStale.some((u) => now - Date.parse(sources[u.key]!.lastNotifiedAt ?? sources[u.key]!.since) >= remindEveryMs);
  if (reminderDue) {
    for (const unit of stillStale) {
      const source = sources[unit.key]!;
      events.push({ source: unit.source, change: "reminder", detail: unit.detail, since: source.since });
      source.lastNotifiedAt = at;
    }
  }
  return { state: { ...state, lastCheckAt: at, sources }, events };
}

/** One message for all of a run's events: a headline, then a line per source (control characters escaped). */
export function composeMessage(events: NotifyEvent[], host: string, now: number): string {
  const names = (change: NotifyEvent["change"]) => [...new Set(events.filter((e) => e.change === change).map((e) => e.source))].join(", ");
  const headline = [
    names("stale") && `STALE: ${names("stale")}`,
    names("reminder") && `still stale: ${names("reminder")}`,
    names("recovered") && `recovered: ${names("recovered")}`,
  ].filter(Boolean).join("; ");
  const lines = events.map((e) => {
    const age = formatAge(Math.max(0, Math.round((now - Date.parse(e.since)) / 1000)));
    const detail = escapeControl(e.detail);
    if (e.change === "stale") return `• STALE ${e.source}: ${detail}`;
    if (e.change === "reminder") return `• STILL STALE ${e.source} (since ${formatTime(Date.parse(e.since))}, ${age}): ${detail}`;
    return `• RECOVERED ${e.source} (was stale for ${age}): ${detail}`;
  });
  return [`[cronjobs on ${host}] ${headline}`, ...lines].join("\n");
}
