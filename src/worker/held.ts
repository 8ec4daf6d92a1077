/**
 * Jobs popped ahead (src/worker/ahead.ts decides how many), waiting in their
 * child for a slot: the queue they wait in, the watch for a job that turns
 * out long, and handing them back.
 *
 * A job popped ahead is this worker's (its lock is heartbeated like a
 * running one's) but its code has not started. When the jobs running ahead
 * of it turn out long, it would wait for them: so once no job of the child
 * has finished for AHEAD.strandMs, the jobs waiting go back to the head of
 * their queue for any worker to take — the core's `timeout`, which uses no
 * retry and publishes `lock_lost` (idle children wake on it). Not while the
 * whole process is stalled (the check itself comes late: a job blocking the
 * event loop, or a starved CPU), nor while Redis is away (the hand-back
 * could only be sent once it is back, possibly after the locks expired and
 * the jobs went to another worker).
 *
 * A job handed back is forgotten before the call is sent and was never
 * started, so this child can neither run nor complete it; if the same child
 * pops it again later, that is a new run.
 */
import type { Client } from '../client.js';
import { AHEAD } from './ahead.js';
import { errorFields, type Logger } from './logger.js';
import type { Run } from './runner.js';

/** A timer this late (ms) means the process was stalled, not that a job is. */
const STALL_MS = 50;

export interface HeldDeps {
  client: Client;
  log: Logger;
  /** Whether the child's Redis connection is up. */
  redisUp: () => boolean;
  /** Runs given back: the child forgets them (they never ran). */
  forget: (runs: Run[]) => void;
  /** Jobs had to be handed back (the pop-ahead policy starts over). */
  stranded: () => void;
}

export class HeldJobs {
  readonly #deps: HeldDeps;
  /** Oldest first. */
  #waiting: Run[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dueAt = 0;
  /** When a job of this child last finished its code. */
  #progressAt = 0;

  constructor(deps: HeldDeps) {
    this.#deps = deps;
  }

  /** How many jobs wait. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Whether `run` is waiting here. */
  has(run: Run): boolean {
    return this.#waiting.includes(run);
  }

  /** Hold a run popped ahead until a slot frees up. */
  hold(run: Run): void {
    run.heldAhead = true;
    this.#waiting.push(run);
    if (this.#timer === undefined) this.#watch(AHEAD.strandMs);
  }

  /** The oldest run waiting, taken out to start. */
  next(): Run | undefined {
    return this.#waiting.shift();
  }

  /** Take one run out (it will not run). */
  remove(run: Run): void {
    const at = this.#waiting.indexOf(run);
    if (at >= 0) this.#waiting.splice(at, 1);
  }

  /** A job of this child finished its code. */
  progress(): void {
    this.#progressAt = Date.now();
  }

  /** Give every waiting job back to the head of its queue. */
  handBackAll(why: string): void {
    this.handBack(this.#waiting.splice(0), why);
  }

  /** Give runs popped ahead (never started) back to the head of their queues. */
  handBack(runs: Run[], why: string): void {
    if (runs.length === 0) return;
    const { client, log } = this.#deps;
    this.#deps.forget(runs);
    log.info({ jids: runs.map((run) => run.job.jid), reason: why }, 'handing jobs popped ahead back to their queues');
    // `timeout` puts them at the head of their queue without using a retry.
    client.call('timeout', ...runs.map((run) => run.job.jid)).catch((error: unknown) => {
      log.warn({ ...errorFields(error) }, 'could not hand jobs back; they are handed out again when their locks expire');
    });
  }

  /** Check on the jobs waiting in `ms`. */
  #watch(ms: number): void {
    this.#dueAt = Date.now() + ms;
    this.#timer = setTimeout(() => this.#check(), ms).unref();
  }

  /**
   * Jobs that have waited AHEAD.strandMs while no job of this child
   * finished go back to their queues (see the module comment for when not).
   */
  #check(): void {
    this.#timer = undefined;
    const oldest = this.#waiting[0];
    if (!oldest) return;
    const now = Date.now();
    const late = now - this.#dueAt;
    const since = Math.max(this.#progressAt, oldest.claimedAt);
    if (late > STALL_MS || now - since < AHEAD.strandMs || !this.#deps.redisUp()) {
      this.#watch(Math.max(since + AHEAD.strandMs - now, 50));
      return;
    }
    this.#deps.stranded();
    this.handBackAll('jobs popped ahead waited too long for a slot');
  }
}
