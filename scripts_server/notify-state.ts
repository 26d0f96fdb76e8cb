/**
 * The watchdog's memory (`freshness/notify_stale_state.json`) and what it decides from it:
 * notify on each change of state, remind at an interval while stale, never once a minute.
 */
import { escapeControl } from "../src/text/escape.ts";
import { formatAge, formatTime, type FreshnessCheck, type FreshnessStatus } from "./freshness-check.ts";

export type ChannelName = "webhook" | "command";

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

/**
 * Compares the checks with the state: a source turning stale or fresh is an event, and while
 * anything is stale, once the reminder interval has passed since the last message about it,
 * every stale source is reminded in one message.
 */
export function decideEvents(state: NotifyState, checks: FreshnessCheck[], now: number, remindEveryMs: number): { state: NotifyState; events: NotifyEvent[] } {
  const at = new Date(now).toISOString();
  const sources: Record<string, SourceState> = { ...state.sources };
  const events: NotifyEvent[] = [];
  for (const check of checks) {
    const before = sources[check.name];
    if (check.status === "stale" && before?.status !== "stale") {
      events.push({ source: check.name, change: "stale", detail: check.detail, since: at });
      sources[check.name] = { status: "stale", since: at, lastNotifiedAt: at, detail: check.detail };
    } else if (check.status === "fresh" && before?.status === "stale") {
      events.push({ source: check.name, change: "recovered", detail: check.detail, since: before.since });
      sources[check.name] = { status: "fresh", since: at, lastNotifiedAt: at, detail: check.detail };
    } else {
      sources[check.name] = { status: check.status, since: before?.since ?? at, lastNotifiedAt: before?.lastNotifiedAt ?? null, detail: check.detail };
    }
  }
  const stillStale = checks.filter((c) => c.status === "stale" && !events.some((e) => e.source === c.name));
  const reminderDue = stillStale.some((c) => now - Date.parse(sources[c.name]!.lastNotifiedAt ?? sources[c.name]!.since) >= remindEveryMs);
  if (reminderDue) {
    for (const check of stillStale) {
      const source = sources[check.name]!;
      events.push({ source: check.name, change: "reminder", detail: check.detail, since: source.since });
      source.lastNotifiedAt = at;
    }
  }
  return { state: { ...state, lastCheckAt: at, sources }, events };
}

/** One message for all of a run's events: a headline, then a line per source (control characters escaped). */
export function composeMessage(events: NotifyEvent[], host: string, now: number): string {
  const names = (change: NotifyEvent["change"]) => events.filter((e) => e.change === change).map((e) => e.source).join(", ");
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
