import { actorLabel, type ChangeActor } from "../actor.ts";
import type { ChangeFeed } from "../changes.ts";
import type { Clock } from "../clock.ts";
import { AppError, invalidField } from "../errors.ts";
import { endOf, isPausedAll, isRunning, PAUSE_ALL_SETTING, plannedRun, slotOfJob, stateOf } from "../lifecycle/lifecycle.ts";
import { firstRunAt, nextSlotAfter, scheduleOf, type Schedule } from "../schedule/schedule.ts";
import type {
  Audit, ChangeFilter, ChangeLogStore, CronJobChangeRecord, CronJobRecord, CronJobRunRecord, JobChange, JobFilter, JobStore, JobValues, Page, ReadStore,
  RunFilter, SettingsStore, UpdateAction, UserStore,
} from "../store/store.ts";
import { parseInput } from "../validation.ts";
import { checkEndsAt, jobSchema, withoutStrayTimezone, type JobInput, type JobPatch, type JobSpec } from "./job-input.ts";
import { parsePayload } from "./job-view.ts";
import type { JobRegistry } from "./registry.ts";

export interface JobServiceDeps {
  store: JobStore & ReadStore & SettingsStore & Pick<ChangeLogStore, "listChanges"> & Pick<UserStore, "getUser">;
  registry: JobRegistry;
  clock: Clock;
  /** Published after every change, so the timers of every instance look again at once. */
  changes: ChangeFeed;
}

/** What `delete` did; `wasRunning`: a run still going finishes, is recorded, and changes no row. */
export interface Deleted {
  id: number;
  wasRunning: boolean;
}

type RowChange = JobChange;

/**
 * Manages jobs for the control plane and the users domain: validates against the one job
 * definition, derives `next_run_at` (SPEC §4), writes through the store, then pokes the timer.
 *
 * A job held by a live lease (running) may be deleted — the run's fenced finish then finds no
 * row and changes nothing — but not updated, paused or retried: the run's finish would
 * overwrite the change.
 *
 * Every change names its `actor` (the caller's token and client, or `system (users)`) and is
 * written to the audit log with it, in the change's own transaction; a call that changes nothing
 * (pausing a paused job) writes no audit row, a refused one (NOT_FOUND, CONFLICT, BAD_REQUEST) none.
 */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  async get(id: number): Promise<CronJobRecord> {
    const job = await this.deps.store.getJob(id);
    if (!job) throw new AppError("NOT_FOUND", `job ${id} does not exist`);
    return job;
  }

  list(filter: JobFilter): Promise<Page<CronJobRecord>> {
    return this.deps.store.listJobs(filter, this.deps.clock.now());
  }

  listRuns(filter: RunFilter): Promise<Page<CronJobRunRecord>> {
    return this.deps.store.listRuns(filter);
  }

  /** The audit log, newest first, by pages (of one job with `jobId`). */
  listChanges(filter: ChangeFilter): Promise<Page<CronJobChangeRecord>> {
    return this.deps.store.listChanges(filter);
  }

  /** Adds a job; `CONFLICT` when `(name, userId)` exists. */
  async create(input: JobInput, actor: ChangeActor): Promise<CronJobRecord> {
    const spec = this.check(input);
    await this.checkUser(spec.userId);
    const now = this.deps.clock.now();
    const slot = firstSlot(spec, now);
    checkEndsAt(spec, slot);
    let job: CronJobRecord;
    try {
      job = await this.deps.store.insertJob(valuesOf(spec, new Date(slot)), now, audit(actor, now), (row) => jittered(row, slot));
    } catch (err) {
      if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
      const existing = await this.deps.store.findJob(spec.name, spec.userId);
      const owner = spec.userId === null ? "no user" : `user ${spec.userId}`;
      throw new AppError("CONFLICT", `a job named "${spec.name}" already exists for ${owner}${existing ? ` (id ${existing.id})` : ""}: update it, or use upsert`, { cause: err });
    }
    return this.changed(job);
  }

  /** Adds the job, or replaces the one with the same `(name, userId)` (clearing its failures). */
  async upsert(input: JobInput, actor: ChangeActor): Promise<CronJobRecord> {
    const spec = this.check(input);
    await this.checkUser(spec.userId);
    const now = this.deps.clock.now();
    const existing = await this.deps.store.findJob(spec.name, spec.userId);
    // An unchanged schedule keeps its slot: a web app that upserts its jobs at every deploy
    // does not make them run again.
    const kept = existing?.nextRunAt && sameSchedule(existing, spec) ? existing : undefined;
    const slot = kept ? slotOfJob(kept, scheduleOf(spec), now) : firstSlot(spec, now);
    if (!kept || spec.endsAt?.getTime() !== existing?.endsAt?.getTime()) checkEndsAt(spec, slot);
    const job = await this.deps.store.upsertJob(valuesOf(spec, kept ? kept.nextRunAt : new Date(slot)), now, audit(actor, now), (row) => jittered(row, slot));
    return this.changed(job);
  }

  /** Changes the given fields; a new schedule is a fresh start (next run derived, failures cleared). */
  async update(id: number, patch: JobPatch, actor: ChangeActor): Promise<CronJobRecord> {
    const job = await this.get(id);
    const now = this.deps.clock.now();
    this.assertIdle(job, now, "update");
    const given = withoutStrayTimezone(Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as JobPatch);
    const spec = this.check({ ...fieldsOf(job), ...given });
    if (spec.userId !== job.userId) await this.checkUser(spec.userId);
    const schedule = scheduleOf(spec);
    const change: RowChange = valuesOf(spec, job.nextRunAt);
    let slot: number | null = job.nextRunAt === null ? null : slotOfJob(job, schedule, now);
    if (!sameSchedule(job, spec)) {
      slot = firstSlot(spec, now);
      Object.assign(change, { attempts: 0, lastError: null });
    } else if (spec.isActive && !job.isActive) {
      slot = reactivation(job, spec, now);
    }
    if (slot !== null) {
      if ("endsAt" in given || !sameSchedule(job, spec)) checkEndsAt(spec, slot);
      // The slot planned again with the (maybe new) jitter: the same slot keeps the same time.
      change.nextRunAt = new Date(plannedRun({ id, jitterSeconds: spec.jitterSeconds }, schedule, slot));
    }
    if (change.isActive && endOf(spec, change.nextRunAt?.getTime() ?? null, job.runCount) !== null) {
      // max_runs lowered to the runs already made (or resumed past its end): the job is finished now.
      Object.assign(change, { isActive: false, ended: "finished", nextRunAt: null });
    } else if (spec.isActive && job.ended === "finished") {
      change.ended = null;
    }
    return this.write(id, change, now, "update", actor);
  }

  async pause(id: number, actor: ChangeActor): Promise<CronJobRecord> {
    const job = await this.get(id);
    if (!job.isActive) return job;
    const now = this.deps.clock.now();
    this.assertIdle(job, now, "pause");
    return this.write(id, { isActive: false }, now, "pause", actor);
  }

  /**
   * Re-activates a paused (or finished) job; a recurring one whose slot passed meanwhile waits
   * for its next slot. A job past its `ends_at` or `max_runs` stays finished (`CONFLICT`).
   */
  async resume(id: number, actor: ChangeActor): Promise<CronJobRecord> {
    const job = await this.get(id);
    if (job.isActive) return job;
    const now = this.deps.clock.now();
    const spec = this.check(fieldsOf(job));
    const schedule = scheduleOf(spec);
    const planned = plannedRun(job, schedule, reactivation(job, spec, now));
    const end = endOf(job, planned, job.runCount);
    if (end !== null) throw new AppError("CONFLICT", `job ${id} is finished (${end}): raise maxRuns or endsAt to run it again`);
    return this.write(id, { isActive: true, ended: null, nextRunAt: new Date(planned) }, now, "resume", actor);
  }

  /** Pause all (SPEC §5.3.1): every tick, on every server, claims nothing until `resumeAll`. */
  async pauseAll(actor: ChangeActor): Promise<{ paused: boolean }> {
    return this.setPausedAll(true, actor);
  }

  /** Ends pause all; jobs paused one by one stay paused. */
  async resumeAll(actor: ChangeActor): Promise<{ paused: boolean }> {
    return this.setPausedAll(false, actor);
  }

  /** Whether all jobs are paused (`pauseAll`). */
  async pausedAll(): Promise<boolean> {
    return isPausedAll(await this.deps.store.readSetting(PAUSE_ALL_SETTING));
  }

  private async setPausedAll(paused: boolean, actor: ChangeActor): Promise<{ paused: boolean }> {
    const now = this.deps.clock.now();
    await this.deps.store.writeSetting(PAUSE_ALL_SETTING, String(paused), now, { ...audit(actor, now), action: paused ? "pause_all" : "resume_all", unset: "false" });
    // Timers everywhere look again: on resume, due jobs start at once.
    this.deps.changes.publish();
    return { paused };
  }

  /** Re-activates a dead (or failing) job: failures cleared, due now. */
  async retry(id: number, actor: ChangeActor): Promise<CronJobRecord> {
    const job = await this.get(id);
    const now = this.deps.clock.now();
    this.assertIdle(job, now, "retry");
    this.check(fieldsOf(job));
    return this.write(id, { isActive: true, ended: null, attempts: 0, crashes: 0, lastError: null, nextRunAt: new Date(now) }, now, "retry", actor);
  }

  /**
   * Asks the run holding the job to stop (SPEC §5.3.2): the row is marked, and the runner
   * holding the lease, on this server or another, aborts the run within a second and records it
   * `cancelled`. `CONFLICT` when no run holds the job.
   */
  async cancel(id: number, actor: ChangeActor): Promise<CronJobRecord> {
    const now = this.deps.clock.now();
    const job = await this.deps.store.requestCancel(id, now, audit(actor, now));
    if (!job) {
      const existing = await this.get(id);
      throw new AppError("CONFLICT", `job ${id} is not running (it is ${stateOf(existing, now)}): only a running job can be cancelled`);
    }
    return this.changed(job);
  }

  async delete(id: number, actor: ChangeActor): Promise<Deleted> {
    const job = await this.get(id);
    const now = this.deps.clock.now();
    const wasRunning = isRunning(job, now);
    if (!(await this.deps.store.deleteJob(id, audit(actor, now)))) throw new AppError("NOT_FOUND", `job ${id} does not exist`);
    this.deps.changes.publish();
    return { id, wasRunning };
  }

  private check(input: JobInput): JobSpec {
    return parseInput(jobSchema(this.deps.registry), input);
  }

  /** A job's user must exist: refused by name here, not by the database's foreign key. */
  private async checkUser(userId: number | null): Promise<void> {
    if (userId !== null && !(await this.deps.store.getUser(userId))) {
      throw invalidField("userId", `user ${userId} does not exist`);
    }
  }

  private assertIdle(job: CronJobRecord, now: number, verb: string): void {
    if (isRunning(job, now)) {
      throw new AppError("CONFLICT", `job ${job.id} is running now (lease until ${job.lockedUntil!.toISOString()}): ${verb} it once the run has finished`);
    }
  }

  private async write(id: number, change: RowChange, now: number, action: UpdateAction, actor: ChangeActor): Promise<CronJobRecord> {
    const job = await this.deps.store.updateJob(id, change, now, { ...audit(actor, now), action });
    if (!job) throw new AppError("NOT_FOUND", `job ${id} does not exist`);
    return this.changed(job);
  }

  private changed(job: CronJobRecord): CronJobRecord {
    this.deps.changes.publish();
    return job;
  }
}

/** The author of a change made at `now`, as the store writes it to the audit log. */
function audit(actor: ChangeActor, now: number): Audit {
  return { actor: actorLabel(actor), at: now };
}

/**
 * A new row's `next_run_at` moved by its jitter: the offset depends on the job's id, known only
 * once the row is written (the store applies it in the insert's transaction). Nothing without jitter.
 */
function jittered(job: CronJobRecord, slot: number): JobChange | undefined {
  const planned = plannedRun(job, scheduleOf(job), slot);
  return planned === job.nextRunAt?.getTime() ? undefined : { nextRunAt: new Date(planned) };
}

/** A stored row as input, so that an update is checked as the whole job it makes. */
function fieldsOf(job: CronJobRecord): JobInput {
  return {
    name: job.name, jobType: job.jobType, userId: job.userId, runAt: job.runAt, intervalMinutes: job.intervalMinutes,
    cron: job.cron, timezone: job.timezone, payload: parsePayload(job.payload) as JobInput["payload"],
    timeoutSeconds: job.timeoutSeconds, maxAttempts: job.maxAttempts, isActive: job.isActive,
    catchUp: job.catchUp, startDeadlineSeconds: job.startDeadlineSeconds, jitterSeconds: job.jitterSeconds, endsAt: job.endsAt, maxRuns: job.maxRuns,
  };
}

function valuesOf(spec: JobSpec, nextRunAt: Date | null): JobValues {
  return { ...spec, payload: spec.payload === null ? null : JSON.stringify(spec.payload), nextRunAt };
}

function sameSchedule(job: CronJobRecord, spec: JobSpec): boolean {
  return (job.runAt?.getTime() ?? null) === (spec.runAt?.getTime() ?? null) && job.intervalMinutes === spec.intervalMinutes
    && job.cron === spec.cron && job.timezone === spec.timezone;
}

/** The first slot of a new or re-scheduled job (SPEC §4), before jitter. */
function firstSlot(spec: JobSpec, now: number): number {
  const next = firstRunAt(scheduleOf(spec), now);
  if (next === null) throw invalidField("cron", "has no match after now");
  return next;
}

/** The slot an inactive job resumes at; a dead job must be retried instead. */
function reactivation(job: CronJobRecord, spec: JobSpec, now: number): number {
  if (job.ended === "dead") {
    throw new AppError("CONFLICT", `job ${job.id} is dead (${job.lastError ?? `${job.attempts} failed attempts`}): retry it to run it again`);
  }
  const schedule: Schedule = scheduleOf(spec);
  let next = job.nextRunAt === null ? firstRunAt(schedule, now) : slotOfJob(job, schedule, now);
  if (schedule.kind !== "once" && next !== null && next <= now) next = nextSlotAfter(schedule, next, now);
  if (next === null) throw invalidField("cron", "has no match after now");
  return next;
}
