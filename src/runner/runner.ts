import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { actorLabel, type ChangeActor } from "../actor.ts";
import type { ChangeFeed } from "../changes.ts";
import type { Clock } from "../clock.ts";
import { AppError } from "../errors.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import { decideStart, isPausedAll, leaseMs, PAUSE_ALL_SETTING, type RunOutcome } from "../lifecycle/lifecycle.ts";
import type { Logger } from "../logger.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { ChangeLogStore, CronJobRecord, ReadStore, RunnerStore, SettingsStore, UserStore } from "../store/store.ts";
import { CancelWatch } from "./cancel-watch.ts";
import { CLAIM_AHEAD_MS, ClaimSize } from "./claim-size.ts";
import { execute, prepare, type ExecuteDeps, type Prepared } from "./execute.ts";
import { Finisher } from "./finisher.ts";
import { InFlight } from "./in-flight.ts";
import { RunnerMetrics } from "./metrics.ts";
import { scheduleUnscheduled } from "./schedule-rows.ts";
import { Slots } from "./slots.ts";
import { MAX_RESULTS, resultOf, TickTally, type JobRunResult, type TickResult } from "./tick-result.ts";

export type { JobRunResult, TickResult };

export interface RunnerDeps {
  store: RunnerStore & UserStore & Pick<ReadStore, "getJob"> & Pick<SettingsStore, "readSetting"> & Pick<ChangeLogStore, "pruneChanges">;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  /**
   * Told when the runner gives jobs back (shutdown), so whoever is free takes them at once; its
   * changes make the runner look for cancelled runs at once.
   */
  changes?: ChangeFeed;
}

export interface RunnerOptions {
  /** Jobs running at once, over all of this runner's ticks (default 10). */
  concurrency: number;
  /** Most jobs claimed per transaction (default 500; fewer when runs are slow, see `ClaimSize`). */
  batchSize: number;
  /** Added to each job's timeout to make its lease (default 30 s). */
  leaseMarginMs: number;
  /** A tick stops claiming after this long (default 50 s, so it ends before the next minute). */
  budgetMs: number;
  /** How long a timed-out job may take to settle before it is recorded anyway (default 2 s). */
  abortGraceMs: number;
  /** History rows and audit rows older than this are pruned (default 14 days, `HISTORY_DAYS`). */
  retentionMs: number;
  /** Written to each history row: who ran it. */
  runnerName: string;
}

export const defaultRunnerOptions: RunnerOptions = {
  concurrency: 10,
  batchSize: 500,
  leaseMarginMs: 30_000,
  budgetMs: 50_000,
  abortGraceMs: 2_000,
  retentionMs: 14 * 24 * 3_600_000,
  runnerName: `${hostname()}/${process.pid}`,
};

export interface TickOptions {
  /** Most jobs this tick runs. */
  limit?: number;
  /** List what is due, run nothing. */
  dryRun?: boolean;
  budgetMs?: number;
  /**
   * How long the tick derives `next_run_at` of rows written by hand before it claims (default
   * `DERIVE_MS`): a backlog of them does not hold up the jobs already due. The rest waits for
   * the next tick, which a server's timer starts at once while any is left (`nextWakeAt`); a
   * process that ticks once (`app cron-runner --local`) derives them all.
   */
  deriveMs?: number;
  /**
   * The due time the server's timer ticks for, up to `CLAIM_EARLY_MS` before it: the tick claims
   * the jobs due by then, and starts each at its own `next_run_at`, never before.
   */
  slot?: number;
}

/** The default of `TickOptions.deriveMs`. */
export const DERIVE_MS = 50;

/**
 * How long before a slot the server's timer starts its tick (`TickOptions.slot`): the claim of
 * the slot's first batch (a few ms for 500 jobs) is done before it, and the jobs start in the
 * millisecond they come due. Their leases are taken this much early, well within any lease.
 */
export const CLAIM_EARLY_MS = 25;
/**
 * A timer fires up to ~2 ms after its time (it counts whole ms, and the event loop is late to
 * it): a job claimed early sleeps until this long before its time, then waits out the rest a
 * turn of the event loop at a time.
 */
const WAKE_EARLY_MS = 2;

const PRUNE_EVERY_MS = 3_600_000;

/** The first store failure of a tick, shared by its workers. */
interface TickFailure {
  error?: unknown;
}

/** A run handed to the finisher: its write, which settles once the run's record is in the database. */
interface Queued {
  written: Promise<void>;
}

/** Called once a run's record is written. */
type Recorded = (job: CronJobRecord, status: JobRunResult["status"], durationMs: number, error?: string | null, output?: string | null) => void;

/**
 * Claims due jobs and runs them (SPEC §5). The HTTP route, `jobs.runNow`, the server's timer
 * and `app cron-runner --local` all drive this one class.
 */
export class Runner {
  readonly options: RunnerOptions;
  readonly metrics = new RunnerMetrics();
  private readonly finisher: Finisher;
  private readonly executeDeps: ExecuteDeps;
  private readonly inFlight: InFlight;
  private readonly cancelWatch: CancelWatch;
  private readonly slots: Slots;
  private readonly claimSize: ClaimSize;
  private readonly active = new Set<Promise<unknown>>();
  /** Give back the jobs claimed and not started by each running tick (called on shutdown). */
  private readonly waiting = new Set<() => void>();
  private stopping = false;
  private lastPruneAt = Number.NEGATIVE_INFINITY;

  constructor(readonly deps: RunnerDeps, options: Partial<RunnerOptions> = {}) {
    this.options = { ...defaultRunnerOptions, ...options };
    this.finisher = new Finisher(deps.store, this.options.runnerName);
    this.slots = new Slots(this.options.concurrency);
    this.claimSize = new ClaimSize(this.options.concurrency, this.options.batchSize);
    this.executeDeps = { ...deps, leaseMarginMs: this.options.leaseMarginMs, abortGraceMs: this.options.abortGraceMs };
    this.inFlight = new InFlight(() => this.cancelWatch.busy());
    this.cancelWatch = new CancelWatch(deps.store, this.inFlight, deps.logger);
    deps.changes?.subscribe(() => this.cancelWatch.changed());
  }

  /** One tick: claims and runs batch after batch until nothing is due, `limit` or the budget. */
  runDueJobs(options: TickOptions = {}): Promise<TickResult> {
    return this.track(this.tick(options).then((result) => {
      // Runs moved jobs to their next slots (or deleted them): timers everywhere look again.
      if (result.claimed > 0) this.deps.changes?.publish();
      return result;
    }));
  }

  /**
   * Runs one job now, through the same claim as a tick, so it never overlaps a scheduled run.
   * The claim writes the `run_now` audit row of `actor` (after: the run's `runId`).
   */
  runNow(id: number, actor: ChangeActor): Promise<JobRunResult> {
    return this.track(this.runOne(id, actor).finally(() => this.deps.changes?.publish()));
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Stops claiming, lets running jobs finish within `graceMs`, then aborts the rest and
   * releases their leases (so they are due again at once, not after the lease expires).
   */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    // Jobs claimed but not started go back now, so another instance can take them during the grace period.
    for (const giveBack of this.waiting) giveBack();
    const all = () => Promise.allSettled([...this.active]);
    const timer = setTimeout(() => this.inFlight.stop(new Error("shutting down")), graceMs);
    await all();
    clearTimeout(timer);
    this.cancelWatch.stop();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.active.add(work);
    return work.finally(() => this.active.delete(work));
  }

  private assertRunning(): void {
    if (this.stopping) throw new AppError("UNAVAILABLE", "the runner is shutting down");
  }

  private async tick({ limit = Number.POSITIVE_INFINITY, dryRun = false, budgetMs = this.options.budgetMs, deriveMs = DERIVE_MS, slot }: TickOptions): Promise<TickResult> {
    this.assertRunning();
    const { store, clock } = this.deps;
    const runId = randomUUID();
    const startedAt = clock.now();
    const tally = new TickTally();
    // Pause all is read once per tick (one primary-key read), not per batch: the claim path is unchanged.
    const paused = isPausedAll(await store.readSetting(PAUSE_ALL_SETTING));
    await scheduleUnscheduled(store, startedAt, deriveMs);

    if (dryRun) {
      for (const job of await store.listDue(startedAt, Math.min(limit, MAX_RESULTS + 1))) {
        tally.add(job, "due", 0);
      }
      return tally.result(runId, startedAt, clock.now(), false, paused);
    }
    if (paused) {
      this.metrics.recordTick(clock.now() - startedAt, clock.now());
      return tally.result(runId, startedAt, clock.now(), false, true);
    }

    const failed: TickFailure = {};
    await this.runClaims(runId, tally, failed, limit, startedAt + budgetMs, slot);
    this.metrics.recordTick(clock.now() - startedAt, clock.now());
    if (failed.error !== undefined) throw failed.error;
    await this.pruneIfDue(clock.now());
    return tally.result(runId, startedAt, clock.now(), true, false);
  }

  /**
   * Claims due jobs and runs them through `concurrency` workers until a claim finds nothing due,
   * `limit` jobs are claimed or the clock passes `claimUntil` (the tick's budget). The workers
   * share one queue of claimed jobs and the first to find it empty claims the next batch, so a
   * slow job holds up only its own worker, not the jobs after it, and a batch is claimed while
   * the last one's records are written. Once every worker is idle and every record written, a
   * run recorded after the last empty claim began may have made its job due again (catch-up
   * `all`): then it looks once more. The first store failure goes to `failed` as it happens, and
   * no job starts after it. Claims take the jobs due by `slot` when it is still ahead.
   */
  private async runClaims(runId: string, tally: TickTally, failed: TickFailure, limit: number, claimUntil: number, slot?: number): Promise<void> {
    const { store, clock } = this.deps;
    const fail = (err: unknown) => { failed.error ??= err; };
    // The jobs claimed and not yet started are `queue[head…]`.
    let queue: CronJobRecord[] = [];
    let head = 0;
    let claimedAt = 0;
    const unstarted: number[] = [];
    const settled: Promise<void>[] = []; // record writes and released leases; none rejects
    // The finisher hands out one promise per write, shared by the runs that end before it begins.
    let lastWrite: Promise<void> | undefined;
    const release = (ids: number[]) => {
      if (ids.length === 0) return;
      tally.claimed -= ids.length;
      settled.push(store.release(ids, runId).then(() => this.deps.changes?.publish(), fail));
    };
    let recorded = 0; // runs whose record is written
    const record: Recorded = (job, status, durationMs, error) => {
      recorded++;
      tally.add(job, status, durationMs, error);
    };
    let recordedAtEmptyClaim = -1; // `recorded` when the last claim that found nothing began (-1: none has)
    let exhausted = false; // a claim of this pass found nothing
    let full = false; // the last claim found all it asked for
    let waitedUpTo = 0; // `settled.slice(0, waitedUpTo)`: awaited before a claim
    let queuedUpTo = 0; // `settled.slice(0, queuedUpTo)`: queued before the last claim
    let claiming: Promise<void> | undefined;
    const claim = () => claiming ??= (async () => {
      try {
        // At most one batch behind: a batch is claimed while the last one's records are written,
        // once the records queued before the last claim are.
        const behind = settled.slice(waitedUpTo, queuedUpTo);
        waitedUpTo = queuedUpTo;
        queuedUpTo = settled.length;
        await Promise.all(behind);
        if (!canClaim()) return;
        const recordedBefore = recorded;
        const now = clock.now();
        const asked = Math.min(this.claimSize.next(slot !== undefined && now < slot), limit - tally.claimed);
        const batch = await store.claimDue({ runId, now, dueBy: slot, limit: asked, leaseMarginMs: this.options.leaseMarginMs });
        tally.claimed += batch.length;
        if (batch.length === 0) {
          exhausted = true;
          recordedAtEmptyClaim = recordedBefore;
        }
        // Claimed once the queue is empty, or before the slot while it fills (one claim at a time).
        queue = head === queue.length ? batch : queue.slice(head).concat(batch);
        head = 0;
        claimedAt = now;
        full = batch.length > 0 && batch.length === asked;
      } catch (err) {
        fail(err);
      } finally {
        claiming = undefined;
      }
    })();
    const canClaim = () => !this.stopping && failed.error === undefined && tally.claimed < limit && clock.now() < claimUntil;
    const worker = async () => {
      for (;;) {
        if (head === queue.length) {
          if (exhausted || !canClaim()) return;
          await claim();
          continue;
        }
        // A slot first (another tick may hold them all), then the job: a job is never held
        // unstarted while its worker waits, so a shutdown gives back every job not started.
        const taken = this.slots.take();
        if (taken) await taken;
        if (head === queue.length) {
          this.slots.give();
          continue;
        }
        const job = queue[head++]!;
        try {
          // Claimed before its time (`slot`): it starts when the clock reaches it.
          const dueAt = job.nextRunAt?.getTime() ?? Number.NaN;
          if (dueAt > clock.now() && !(await this.reach(dueAt))) {
            unstarted.push(job.id);
            continue;
          }
          if (this.stopping || failed.error !== undefined) {
            unstarted.push(job.id);
            continue;
          }
          const queued = await this.runClaimed(job, runId, claimedAt, record);
          if (queued === undefined) unstarted.push(job.id);
          else if (queued.written !== lastWrite) {
            lastWrite = queued.written;
            settled.push(queued.written.catch(fail));
          }
        } catch (err) {
          fail(err);
        } finally {
          this.slots.give();
        }
      }
    };
    // Shutdown gives back the jobs claimed and not started, so another instance takes them at once.
    const giveBack = () => {
      const waiting = queue.slice(head);
      head = queue.length;
      release(waiting.map((job) => job.id));
    };
    this.waiting.add(giveBack);
    let cancelOverdue: (() => void) | undefined;
    try {
      // Before the slot, batch after batch while the next claim still ends well before it, up to
      // what the runner can start within CLAIM_AHEAD_MS: at the slot they all start.
      for (let took = 0; slot !== undefined && canClaim() && queue.length < this.claimSize.ahead;) {
        const began = clock.now();
        if (began + 2 * took >= slot) break;
        await claim();
        if (!full) break;
        took = clock.now() - began;
      }
      // What no worker has started CLAIM_AHEAD_MS after the slot (the runs took longer than
      // ClaimSize knew, or it knew none yet) goes back, for whichever server is free to take.
      if (slot !== undefined) {
        cancelOverdue = this.when(slot + CLAIM_AHEAD_MS, () => {
          if (claimedAt >= slot || head === queue.length) return; // started, or claimed since the slot
          this.deps.logger.info("gave back jobs claimed before their slot and not started since", { jobs: queue.length - head, afterMs: CLAIM_AHEAD_MS });
          giveBack();
          exhausted = false; // a worker that comes free takes them, if no other server has
        });
      }
      for (;;) {
        await Promise.all(Array.from({ length: this.options.concurrency }, worker));
        await Promise.all(settled);
        if (recordedAtEmptyClaim === -1 || recorded === recordedAtEmptyClaim || !canClaim()) break;
        exhausted = false;
      }
    } finally {
      cancelOverdue?.();
      this.waiting.delete(giveBack);
    }
    giveBack();
    release(unstarted);
    await Promise.all(settled);
  }

  /**
   * Calls `then` once the clock reaches `at`, looking again whenever a timer finds it short of it
   * (a stepped or manual clock); answers how to cancel.
   */
  private when(at: number, then: () => void): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = () => {
      const left = at - this.deps.clock.now();
      if (left > 0) timer = setTimeout(look, left);
      else then();
    };
    look();
    return () => clearTimeout(timer);
  }

  /**
   * Waits until the clock reaches `at`, which is at most `CLAIM_EARLY_MS` away: true then; false
   * on shutdown, or when the clock moved back meanwhile (a database clock re-read, a stepped
   * system clock) and `at` is further away than that: the job is then given back.
   */
  private async reach(at: number): Promise<boolean> {
    for (;;) {
      const left = at - this.deps.clock.now();
      if (left <= 0) return true;
      if (left > CLAIM_EARLY_MS || this.stopping) return false;
      await (left > WAKE_EARLY_MS ? sleep(left - WAKE_EARLY_MS) : nextTurn());
    }
  }

  /**
   * Runs one claimed job and hands it to the finisher, whose write `recorded` hears of. Answers
   * the promise of that write (wrapped: an async function would wait for it), or `undefined`
   * when shutdown interrupted the job and its lease is to be released. Not an async function:
   * a burst starts hundreds of these within a few ms, and the common path (start, then record
   * once the run ends) is one promise on the run's outcome.
   */
  private runClaimed(
    job: CronJobRecord, runId: string, claimedAt: number, recorded: Recorded, scheduled = true,
  ): Promise<Queued | undefined> {
    const { clock } = this.deps;
    const prepared = prepare(job, this.deps.registry);
    if (!prepared.ok) {
      this.deps.logger.warn("job cannot run; deactivated", { jobId: job.id, name: job.name, error: prepared.error });
      const outcome: RunOutcome = { status: "failed", error: prepared.error, startedAt: clock.now(), output: null, unusable: true, settled: true };
      return Promise.resolve(this.ended(job, runId, prepared.schedule, outcome, recorded));
    }
    // Whether the run starts at all (SPEC §5.3.1): catch-up, start deadline, ends_at and max_runs.
    const start = scheduled ? decideStart(job, prepared.schedule, clock.now()) : undefined;
    if (start?.start === false) {
      // Not started (catch-up, start deadline, past its end): finished as `skipped`, by the same fenced write.
      const outcome: RunOutcome = { status: "skipped", error: start.error, startedAt: clock.now(), output: null, unusable: false, settled: true, skipped: start.reason };
      return Promise.resolve(this.ended(job, runId, prepared.schedule, outcome, recorded));
    }
    // A job that waited in the batch queue renews its lease before it starts.
    const now = clock.now();
    if (now - claimedAt > this.options.leaseMarginMs / 2) {
      return this.deps.store.extendLease(job.id, runId, now + leaseMs(job, this.options.leaseMarginMs)).then((kept) => {
        if (kept) return this.runPrepared(job, runId, prepared, recorded);
        recorded(job, "lease_lost", 0);
        return { written: Promise.resolve() };
      });
    }
    return this.runPrepared(job, runId, prepared, recorded);
  }

  /** Runs a job that may start, then hands its outcome to `ended` (or gives it back: `undefined`). */
  private runPrepared(job: CronJobRecord, runId: string, prepared: Prepared & { ok: true }, recorded: Recorded): Promise<Queued | undefined> {
    if (this.stopping) return Promise.resolve(undefined);
    return execute(this.executeDeps, job, runId, prepared.job, prepared.payload, this.inFlight).then((outcome) =>
      // Cut short by the shutdown: given back. A run that timed out or was cancelled first is recorded.
      this.inFlight.stopped && outcome.status !== "timed_out" && outcome.status !== "cancelled"
        ? undefined
        : this.ended(job, runId, prepared.schedule, outcome, recorded));
  }

  /** A run has ended (or was not started): counted, logged, and queued for the finisher's next write. */
  private ended(job: CronJobRecord, runId: string, schedule: Schedule | null, outcome: RunOutcome, recorded: Recorded): Queued {
    const finishedAt = this.deps.clock.now();
    this.metrics.recordRun(outcome.status);
    this.claimSize.ran(finishedAt - outcome.startedAt);
    if (outcome.status === "skipped") this.deps.logger.info("job run skipped", { jobId: job.id, name: job.name, reason: outcome.error });
    else if (outcome.status !== "succeeded") this.deps.logger.warn("job run did not succeed", { jobId: job.id, name: job.name, status: outcome.status, error: outcome.error });
    const written = this.finisher.finish({ job, runId, schedule, outcome, finishedAt },
      (status) => recorded(job, status === "lease_lost" ? "lease_lost" : outcome.status, finishedAt - outcome.startedAt, outcome.error, outcome.output));
    return { written };
  }

  private async runOne(id: number, actor: ChangeActor): Promise<JobRunResult> {
    this.assertRunning();
    const { store, clock } = this.deps;
    const runId = randomUUID();
    const now = clock.now();
    const job = await store.claimOne(id, { runId, now, leaseMarginMs: this.options.leaseMarginMs }, { actor: actorLabel(actor), at: now });
    if (!job) {
      const existing = await store.getJob(id);
      if (!existing) throw new AppError("NOT_FOUND", `job ${id} does not exist`);
      if (!existing.isActive) throw new AppError("CONFLICT", `job ${id} is paused or dead: resume or retry it first`);
      throw new AppError("CONFLICT", `job ${id} is running now`);
    }
    let result: JobRunResult | undefined;
    // Run now is asked for by hand: it starts whatever the catch-up and deadline policies say.
    const queued = await this.runClaimed(job, runId, now, (ran, status, durationMs, error, output) => {
      result = resultOf(ran, status, durationMs, error);
      if (output) result.output = output;
    }, false);
    if (!queued) {
      await store.release([job.id], runId);
      throw new AppError("UNAVAILABLE", "the runner is shutting down");
    }
    await queued.written;
    return result!;
  }

  private async pruneIfDue(now: number): Promise<void> {
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    const before = now - this.options.retentionMs;
    const pruned = await this.deps.store.pruneRuns(before);
    if (pruned > 0) this.deps.logger.info("pruned history", { rows: pruned });
    // The audit log is kept like the history (SPEC §2).
    const changes = await this.deps.store.pruneChanges(before);
    if (changes > 0) this.deps.logger.info("pruned the audit log", { rows: changes });
  }
}
