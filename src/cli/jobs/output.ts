import type { JobView, RouterOutputs, RunView } from "../../client.ts";
import { escapeControl } from "../../text/escape.ts";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Aligned columns with a header; cells are cut to `width` characters. Control characters in a
 * cell are shown escaped (`\n`, `\x1b`): a name or an error never breaks a row or the terminal.
 */
export function printTable(header: string[], rows: string[][], width = 60): void {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const cells = [header, ...rows.map((r) => r.map((c) => cut(escapeControl(c).replace(/\s+/g, " "))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const row of cells) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()}\n`);
}

/** `2026-01-05 12:00:00Z`, or `-`. */
export function time(iso: string | null): string {
  return iso === null ? "-" : iso.replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

const JOB_COLUMNS = ["ID", "NAME", "TYPE", "USER", "STATE", "SCHEDULE", "NEXT RUN", "LAST RUN", "ATTEMPTS", "LAST ERROR"];

export function printJobs(jobs: JobView[]): void {
  printTable(JOB_COLUMNS, jobs.map((j) => [
    String(j.id), j.name, j.jobType, j.userId === null ? "-" : String(j.userId), j.state, j.scheduleText,
    time(j.dueAt), time(j.lastRunAt), `${j.attempts}/${j.maxAttempts}`, j.lastError ?? "",
  ]), 40);
}

/** When the job is due; for a row no server has scheduled yet, says the time comes from its seed columns. */
function nextRun(job: JobView): string {
  return job.nextRunAt === null && job.dueAt !== null ? `${time(job.dueAt)} (from its seed columns: no server has scheduled it yet)` : time(job.dueAt);
}

/** One job, one field a line (control characters shown escaped). */
export function printJob(job: JobView): void {
  const rows: [string, string][] = [
    ["id", String(job.id)], ["name", job.name], ["type", job.jobType], ["user", job.userId === null ? "-" : String(job.userId)],
    ["state", job.state], ["schedule", job.scheduleText],
    ["cron", job.cron === null ? "-" : `${job.cron} (${job.timezone ?? "UTC"})`], ["every", job.intervalMinutes === null ? "-" : `${job.intervalMinutes} min`], ["run at", time(job.runAt)], ["next run", nextRun(job)],
    ["last run", time(job.lastRunAt)], ["attempts", `${job.attempts}/${job.maxAttempts}`], ["timeout", `${job.timeoutSeconds} s`],
    ["payload", job.payload === null ? "-" : JSON.stringify(job.payload)], ["last error", job.lastError ?? "-"],
    ["leased by", job.lockedBy === null ? "-" : `${job.lockedBy} until ${time(job.lockedUntil)}${job.cancelRequestedAt ? ` (cancel requested ${time(job.cancelRequestedAt)})` : ""}`],
    ["catch-up", job.catchUp], ["start deadline", job.startDeadlineSeconds === null ? "-" : `${job.startDeadlineSeconds} s`],
    ["jitter", job.jitterSeconds === 0 ? "-" : `${job.jitterSeconds} s`], ["ends at", time(job.endsAt)],
    ["runs", job.maxRuns === null ? String(job.runCount) : `${job.runCount}/${job.maxRuns}`],
    ["created", time(job.createdAt)], ["updated", time(job.updatedAt)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${escapeControl(v)}\n`);
}

export function printRuns(runs: RunView[]): void {
  printTable(["ID", "JOB", "NAME", "STATUS", "STARTED", "DURATION", "ATTEMPT", "ERROR"], runs.map((r) => [
    String(r.id), String(r.jobId), r.name, r.status, time(r.startedAt), `${r.durationMs} ms`, String(r.attempt), r.error ?? "",
  ]));
}

/**
 * A run's output under a rule, line by line as the job wrote it; control characters within a
 * line are shown escaped, so the output cannot move the cursor or recolour the terminal.
 */
export function printOutput(output: string): void {
  process.stdout.write("--- output ---\n");
  for (const line of output.split("\n")) process.stdout.write(`${escapeControl(line)}\n`);
}

/** A schedule's words, then its start times: UTC, and the wall clock of its zone with the offset. */
export function printSchedulePreview(preview: RouterOutputs["jobs"]["preview"]): void {
  process.stdout.write(`${escapeControl(preview.description)}\n`);
  if (preview.next.length === 0) {
    process.stdout.write("no start time left\n");
    return;
  }
  const local = (iso: string) => iso.replace("T", " ").replace(/\.000(?=[+-])/, "");
  printTable(["#", "UTC", `LOCAL (${preview.timezone})`], preview.next.map((iso, i) => [String(i + 1), time(iso), local(preview.nextLocal[i]!)]), 80);
}

/** The hint for the next page of a list. */
export function printMore(nextCursor: number | null, command: string): void {
  if (nextCursor !== null) process.stdout.write(`(more: ${command} --cursor ${nextCursor})\n`);
}
