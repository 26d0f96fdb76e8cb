import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { z } from "zod";
import type { CronJob, JobContext } from "../../src/jobs/cron-job.ts";

/** One line of a journal file: a run that started, or one that reached its end. */
export interface JournalEntry {
  event: "start" | "end";
  /** One run's own id: a tick that lasts longer than a recurring job's interval runs it again under the same run id. */
  key: string;
  jobId: number;
  /** The tick that holds the job (its `locked_by`), as the history row's `run_id`. */
  runId: string;
  pid: number;
  /** On the runner's clock, like the lease and the history rows. */
  at: number;
  /** The job's `locked_until` as it stood when the run started (after any renewal). */
  leaseUntil: number | null;
  attempt: number;
}

const journalPayload = z.object({ ms: z.int().min(0).optional(), ignoreAbort: z.boolean().optional() }).nullable();
type JournalPayload = z.infer<typeof journalPayload>;

/**
 * The observable side effect of a run: appends a `start` line to a journal file, sleeps `ms`
 * (honouring its abort signal unless `ignoreAbort`), then appends an `end` line. Several
 * processes append to one file (O_APPEND, one short write per line).
 */
export class JournalJob implements CronJob<JournalPayload> {
  readonly type = "journal";
  readonly description = "Writes start and end lines to a journal file.";
  readonly payloadSchema = journalPayload;

  constructor(private readonly file: string) {}

  async run({ job, payload, signal, clock }: JobContext<JournalPayload>): Promise<void> {
    const lease = job.lockedUntil?.getTime() ?? null;
    const entry = { key: randomUUID(), jobId: job.id, runId: job.lockedBy ?? "", pid: process.pid, leaseUntil: lease, attempt: job.attempts };
    this.append({ event: "start", at: clock.now(), ...entry });
    const ms = payload?.ms ?? 0;
    if (ms > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        if (!payload?.ignoreAbort) signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
      });
    }
    this.append({ event: "end", at: clock.now(), ...entry });
  }

  private append(entry: JournalEntry): void {
    fs.appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }
}

/** The journal's lines, in the order they were written. */
export function readJournal(file: string): JournalEntry[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as JournalEntry);
}

/** A run as the history and the journal tell it: when it started, its lease then, and when it ended. */
export interface RunSpan {
  jobId: number;
  runId: string;
  start: number;
  leaseUntil: number | null;
  /**
   * When the job's code is known to have stopped: its journal `end` line, or the history row of
   * a run that settled. Null for a run killed with its process or one that ignored its abort.
   */
  endedAt: number | null;
}

/** The runs a journal tells of: each start with its lease, and its end if it reached it. */
export function spansOf(entries: JournalEntry[]): RunSpan[] {
  const ends = new Map(entries.filter((e) => e.event === "end").map((e) => [e.key, e.at]));
  return entries.filter((e) => e.event === "start").map((e) => ({
    jobId: e.jobId, runId: e.runId, start: e.at, leaseUntil: e.leaseUntil, endedAt: ends.get(e.key) ?? null,
  }));
}

/**
 * Pairs of runs of one job where the later one started while the earlier one might still be
 * running and its lease had not passed: a concurrent double run (which must never happen).
 */
export function overlappingRuns(spans: RunSpan[]): [RunSpan, RunSpan][] {
  const byJob = new Map<number, RunSpan[]>();
  for (const span of spans) byJob.set(span.jobId, [...(byJob.get(span.jobId) ?? []), span]);
  const bad: [RunSpan, RunSpan][] = [];
  for (const runs of byJob.values()) {
    runs.sort((a, b) => a.start - b.start);
    for (let i = 0; i < runs.length; i++) {
      for (let j = i + 1; j < runs.length; j++) {
        const [a, b] = [runs[i]!, runs[j]!];
        const leaseLive = a.leaseUntil === null || b.start < a.leaseUntil;
        const endedBefore = a.endedAt !== null && a.endedAt <= b.start;
        if (leaseLive && !endedBefore) bad.push([a, b]);
      }
    }
  }
  return bad;
}
