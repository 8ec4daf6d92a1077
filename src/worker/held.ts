/**
 * Jobs popped ahead (src/worker/ahead.ts decides how many), waiting in their
 * child for a slot: the queue they wait in, the watch for jobs that turn out
 * long, and handing them back.
 *
 * A job popped ahead is this worker's (its lock is heartbeated like a
 * running one's) but its code has not started. When the jobs running ahead
 * of it turn out long, it would wait for them: so once every slot's job has
 * run its own code for AHEAD.strandMs, and the oldest job waiting has
 * waited that long, the jobs waiting go back to the head of their queue for
 * any worker to take — the core's `timeout`, which uses no retry and
 * publishes `lock_lost` (idle children wake on it).
 *
 * "Long" is judged by the jobs' own time, never by how slow everything
 * around them is, because handing back short jobs only adds `timed-out` to
 * their history and work to the queue:
 * - durations are measured in the process's own time (src/worker/own-time.ts),
 *   which leaves out stalls of the event loop (a job blocking it, a starved
 *   CPU, a long GC);
 * - a job waiting for Redis is not long: before handing back, the child
 *   makes a round trip on the connection its jobs use. Redis answers in
 *   order, so once that reply is in, every call a job made before has its
 *   reply too; when the round trip itself was slow, Redis is the slow part,
 *   and the jobs stay (the hand-back could only be sent after the locks
 *   expired, too). A job still running after that is long on its own;
 * - never while Redis is away, nor for a job whose lock is close to expiry
 *   (its `timeout` could then land after the core gave it to another worker,
 *   whose run it would take away).
 *
 * A job handed back is forgotten before the call is sent and was never
 * started, so this child can neither run nor complete it; if the same child
 * pops it again later, that is a new run.
 */
import type { Client } from '../client.js';
import { AHEAD } from './ahead.js';
import { errorFields, type Logger } from './logger.js';
import { ownTime } from './own-time.js';
import type { Run } from './runner.js';

/**
 * A probe round trip slower than this (ms) means Redis is the slow part, so
 * that a job making several calls in a row is not judged long only because
 * each of them was slow.
 */
const PROBE_SLOW_MS = 500;
/** Jobs whose lock expires sooner than this (seconds) are not handed back. */
const LOCK_MARGIN_S = 2;
/** A job that waited longer than this (ms) has its lock confirmed before it starts. */
const CONFIRM_AFTER_MS = 250;

export interface HeldDeps {
  client: Client;
  log: Logger;
  /** Whether the child's Redis connection is up. */
  redisUp: () => boolean;
  /** The runs holding the child's slots now. */
  running: () => Iterable<Run>;
  /** Runs given back: the child forgets them (they never ran). */
  forget: (runs: Run[]) => void;
  /** Jobs had to be handed back (the pop-ahead policy starts over). */
  stranded: () => void;
}

/** When each held run began waiting, in own time. */
const heldSince = new WeakMap<Run, number>();

export class HeldJobs {
  readonly #deps: HeldDeps;
  /** Oldest first. */
  #waiting: Run[] = [];
  #timer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(deps: HeldDeps) {
    this.#deps = deps;
  }

  /** How many jobs wait. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Hold a run popped ahead until a slot frees up. */
  hold(run: Run): void {
    if (this.#waiting.length === 0) ownTime.measure(true);
    run.heldAhead = true;
    heldSince.set(run, ownTime.now());
    this.#waiting.push(run);
    if (this.#timer === undefined && !this.#probing) this.#watch(AHEAD.strandMs);
  }

  /** The oldest run waiting, taken out to start. */
  next(): Run | undefined {
    const run = this.#waiting.shift();
    if (run) this.#emptied();
    return run;
  }

  /** Take one run out (it will not run). */
  remove(run: Run): void {
    const at = this.#waiting.indexOf(run);
    if (at < 0) return;
    this.#waiting.splice(at, 1);
    this.#emptied();
  }

  /**
   * Whether a run about to start waited so long (by the wall clock: events
   * about it may have been waiting behind a blocked event loop) that its
   * lock should be confirmed first.
   */
  waitedLong(run: Run): boolean {
    return run.heldAhead && Date.now() - run.claimedAt > CONFIRM_AFTER_MS;
  }

  /** Give every waiting job back to the head of its queue. */
  handBackAll(why: string): void {
    const runs = this.#waiting.splice(0);
    if (runs.length > 0) this.#emptied();
    this.handBack(runs, why);
  }

  /** Give runs popped ahead (never started) back to the head of their queues. */
  handBack(runs: Run[], why: string): void {
    if (runs.length === 0) return;
    const { client, log } = this.#deps;
    this.#deps.forget(runs);
    log.info({ jids: runs.map((run) => run.job.jid), reason: why }, 'handing jobs popped ahead back to their queues');
    // `timeout` puts a job at the head of its queue without using a retry.
    // One call per job: the core stops a `timeout` of several jobs at the
    // first it refuses, which would leave the others locked.
    void client.callMany(runs.map((run) => ({ command: 'timeout', args: [run.job.jid] }))).then(
      (outcomes) => {
        const refused = outcomes.flatMap((outcome, i) => (outcome.ok ? [] : [`${runs[i]!.job.jid}: ${outcome.error.message}`]));
        if (refused.length > 0) log.info({ refused }, 'some jobs could not be handed back (they finished or moved meanwhile)');
      },
      (error: unknown) => log.warn({ ...errorFields(error) }, 'could not hand jobs back; they are handed out again when their locks expire'),
    );
  }

  #emptied(): void {
    if (this.#waiting.length > 0) return;
    ownTime.measure(false);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Check on the jobs waiting in `ms`. */
  #watch(ms: number): void {
    this.#timer = setTimeout(() => void this.#check(), ms).unref();
  }

  /** How much longer (own ms) until the jobs waiting count as stuck; 0: stuck now. */
  #stuckIn(): number {
    const oldest = this.#waiting[0];
    if (!oldest) return Number.POSITIVE_INFINITY;
    const now = ownTime.now();
    let youngest = Number.POSITIVE_INFINITY;
    for (const run of this.#deps.running()) {
      // A job past its code (emptying its sandbox, sending its verdict)
      // frees its slot in a moment.
      youngest = Math.min(youngest, run.codeSince === undefined ? 0 : now - run.codeSince);
    }
    if (youngest === Number.POSITIVE_INFINITY) youngest = 0; // a free slot: the job starts now
    const waited = now - (heldSince.get(oldest) ?? now);
    return Math.max(0, AHEAD.strandMs - youngest, AHEAD.strandMs - waited);
  }

  /** Hand the waiting jobs back if they are stuck behind long jobs (see the module comment). */
  async #check(): Promise<void> {
    this.#timer = undefined;
    const due = this.#stuckIn();
    if (due === Number.POSITIVE_INFINITY) return;
    if (due > 0 || !this.#deps.redisUp()) {
      this.#watch(Math.max(due, 50));
      return;
    }
    this.#probing = true;
    let slow = true;
    try {
      const sent = performance.now();
      await this.#deps.client.redis.ping();
      slow = performance.now() - sent > PROBE_SLOW_MS;
      // Replies that came in with the probe's have been handed to their
      // callers; let the jobs waiting for them run on before judging.
      await new Promise((resolve) => setImmediate(resolve));
    } catch {
      slow = true;
    } finally {
      this.#probing = false;
    }
    if (slow || this.#stuckIn() > 0 || !this.#deps.redisUp()) {
      if (this.#waiting.length > 0) this.#watch(Math.max(this.#stuckIn(), 100));
      return;
    }
    const now = this.#deps.client.now();
    const safe = this.#waiting.filter((run) => run.aborted === undefined && run.job.expires - now > LOCK_MARGIN_S);
    if (safe.length === 0) {
      this.#watch(AHEAD.strandMs);
      return;
    }
    this.#deps.stranded();
    for (const run of safe) this.#waiting.splice(this.#waiting.indexOf(run), 1);
    if (this.#waiting.length === 0) this.#emptied();
    else this.#watch(AHEAD.strandMs);
    this.handBack(safe, 'jobs popped ahead waited too long for a slot');
  }
}
