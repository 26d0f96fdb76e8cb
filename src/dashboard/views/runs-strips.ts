import type { JobStrip } from "../api.ts";
import { h, timeTitle } from "../dom.ts";
import { formatDuration, relativeTime } from "../format.ts";

const STATUS_WORD = { succeeded: "succeeded", failed: "failed", timed_out: "timed out", cancelled: "cancelled", skipped: "skipped" } as const;

/** Each job's last runs as a row of coloured marks, newest on the right. */
export function renderStrips(strips: JobStrip[], now: number): HTMLElement[] {
  if (strips.length === 0) return [h("p", { class: "muted empty-note" }, "No runs yet.")];
  return strips.map((strip) => {
    const counts = { succeeded: 0, failed: 0, timed_out: 0, cancelled: 0, skipped: 0 };
    for (const run of strip.runs) counts[run.status]++;
    const summary = `last ${strip.runs.length} runs: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.timed_out} timed out`;
    return h("div", { class: "strip", "data-job-id": strip.jobId },
      h("a", { class: "strip-name", href: `#/runs?job=${strip.jobId}`, title: `${strip.name} (#${strip.jobId}, ${strip.jobType})` }, strip.name),
      h("span", { class: "marks", role: "img", "aria-label": `${strip.name}: ${summary}` },
        strip.runs.map((run) => {
          const at = Date.parse(run.finishedAt);
          const title = `${STATUS_WORD[run.status]} in ${formatDuration(run.durationMs)}, ${relativeTime(at, now)}\n${timeTitle(at)}${run.error ? `\n${run.error}` : ""}`;
          return h("span", { class: `mark status-${run.status}`, title });
        })),
      h("span", { class: "strip-summary muted" }, counts.failed + counts.timed_out === 0 ? "all ok" : `${counts.failed + counts.timed_out} not ok`));
  });
}
