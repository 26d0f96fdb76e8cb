/**
 * The job form's live schedule preview: what the schedule typed so far does, computed in the
 * browser with the server's own schedule module (the same words and times `jobs.preview`
 * answers), or the error of the field at fault, at once and without a request.
 */
import { previewSchedule } from "../schedule/preview.ts";
import { ScheduleError, type ScheduleFields } from "../schedule/schedule.ts";
import { formatDateTime, formatUtc } from "./format.ts";

export const PREVIEW_TIMES = 5;

/** The schedule fields as the form sends them (`runAt` an ISO string), and which kind is chosen. */
export interface TypedSchedule {
  kind: "once" | "interval" | "cron";
  runAt: string | null;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string | null;
}

export interface StartTime {
  iso: string;
  /** "Mon 26 Oct, 09:00" on the wall clock of the preview's zone. */
  text: string;
  /** "Europe/Paris · 08:00 UTC", or "UTC". */
  zone: string;
}

export type LivePreview =
  | { state: "empty" }
  | { state: "ok"; words: string; times: StartTime[] }
  | { state: "error"; field: ScheduleError["field"]; message: string };

/**
 * The preview of `typed` at `now`: nothing while the chosen kind's field is empty; the times in
 * the cron expression's zone, or in `localZone` (the browser's, where "Run at" is typed).
 */
export function livePreview(typed: TypedSchedule, now: number, localZone: string, locale?: string): LivePreview {
  const given = { once: typed.runAt, interval: typed.intervalMinutes, cron: typed.cron }[typed.kind];
  if (given === null) return { state: "empty" };
  const fields: ScheduleFields = { ...typed, runAt: typed.runAt === null ? null : Date.parse(typed.runAt) };
  try {
    const preview = previewSchedule(fields, now, PREVIEW_TIMES);
    const zone = typed.kind === "cron" ? preview.timezone : localZone;
    const times = preview.next.map((iso) => {
      const ms = Date.parse(iso);
      return {
        iso,
        text: formatDateTime(ms, { timeZone: zone, locale, now, weekday: true }),
        zone: zone === "UTC" ? "UTC" : `${zone} · ${formatUtc(ms).slice(11, 16)} UTC`,
      };
    });
    return { state: "ok", words: `Runs ${preview.description}.`, times };
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    return { state: "error", field: err.field, message: err.message.replace(`${err.field}: `, "") };
  }
}
