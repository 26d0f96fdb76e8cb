/**
 * One audit row (`jobs.changes`) in words, for `app jobs changes` and the dashboard's job page:
 * `timeoutSeconds: 60 → 30, cron: "0 3 * * *" → "0 4 * * *"`. Pure and free of imports (the
 * dashboard bundles it). The text may hold anything a user wrote (names, payloads): a terminal
 * shows it escaped, the dashboard as text, never as markup.
 */

/** What `summarizeChange` reads of an audit row. */
export interface ChangeLike {
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** A value as it reads in a summary: JSON (strings quoted, so `"5"` and 5 differ), `none` for null. */
export function changeValue(value: unknown): string {
  if (value === null || value === undefined) return "none";
  return JSON.stringify(value) ?? String(value);
}

/** The fields of a created or deleted job that were set, as `name: value`. */
function fieldsOf(fields: Record<string, unknown>): string {
  return Object.entries(fields).filter(([, value]) => value !== null && value !== undefined)
    .map(([field, value]) => `${field}: ${changeValue(value)}`).join(", ");
}

/** The fields one change moved, each `field: before → after`; a created/deleted job's fields; a run's id. */
export function changeLines(change: ChangeLike): string[] {
  const { before, after } = change;
  if (change.action === "run_now" && after && typeof after.runId === "string") return [`run ${after.runId}`];
  if (before === null && after === null) return [];
  if (before === null) return [fieldsOf(after!)];
  if (after === null) return [fieldsOf(before)];
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields.map((field) => `${field}: ${changeValue(before[field])} → ${changeValue(after[field])}`);
}

/** `changeLines` on one line. */
export function summarizeChange(change: ChangeLike): string {
  return changeLines(change).join(", ");
}
