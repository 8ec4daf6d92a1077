/**
 * Popping ahead: how many jobs a child may hold beyond its free slots.
 *
 * A child that pops only as many jobs as it has free slots pops, and tells
 * its supervisor about, every job on its own when `--concurrency` is 1; for
 * jobs that take a fraction of a millisecond, that pop (and the Redis work
 * of starting a pop) and that message cost more than the job. A child whose
 * recent jobs were all that short therefore pops a few more jobs than it
 * can start (and, while some wait, pops again only once half of them have
 * started), so one pop and one message serve several jobs. The jobs it
 * holds are claimed to the supervisor at once, so their locks are
 * heartbeated like those of running ones.
 *
 * The bounds, so that a job popped ahead does not wait long:
 * - only while each of the child's last WINDOW jobs held its slot for at
 *   most SHORT_MS, none running now has been at it longer, and its pops
 *   over those jobs found as many jobs as they asked for (a queue being
 *   drained — not one that is nearly empty, where other workers would be
 *   idle, nor one held back by `<queue>-max-concurrency`);
 * - no more than the child would start within BUDGET_MS at its recent pace,
 *   and never more than MAX;
 * - a job that turns out to run long does not strand the jobs popped with
 *   it: when none of the child's jobs has finished for STRAND_MS while some
 *   wait, those are handed back to the head of their queue (the core's
 *   `timeout`: no retry is used, their history shows `timed-out`) for any
 *   worker to take (idle children wake on the `lock_lost` event it
 *   publishes).
 */

/** Tuning of popping ahead (see the module comment). */
export const AHEAD = {
  /** Recent jobs looked at. */
  window: 16,
  /** Each of them held its slot at most this long (ms), and so has every job running now. */
  shortMs: 5,
  /** Jobs held ahead should all start within this (ms) at the recent pace. */
  budgetMs: 10,
  /** At most this many jobs held ahead per child. */
  max: 32,
  /**
   * Jobs held ahead are handed back once no job has finished for this long
   * (ms). Not much shorter: short jobs that await Redis can all be slow for a
   * few hundred milliseconds on a busy server, and handing their followers
   * back then only adds `timed-out` to those jobs' history.
   */
  strandMs: 1000,
} as const;

export class PopAhead {
  readonly #concurrency: number;
  readonly #recent: Float64Array = new Float64Array(AHEAD.window);
  #recorded = 0;
  #next = 0;
  /** Jobs to run before popping ahead again, after a pop that found fewer jobs than it asked for. */
  #cooldown: number = AHEAD.window;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /** A job's code held its slot for `ms`. */
  ran(ms: number): void {
    this.#recent[this.#next] = ms;
    this.#next = (this.#next + 1) % AHEAD.window;
    if (this.#recorded < AHEAD.window) this.#recorded++;
    if (this.#cooldown > 0) this.#cooldown--;
  }

  /**
   * A pop asked for `asked` jobs and got `got`. Fewer means the queue ran dry
   * (or its max-concurrency held it back): no popping ahead until WINDOW
   * more jobs have run, so that a nearly empty queue is not taken from idle
   * workers, and an over-asking pop comes at most once per WINDOW jobs.
   */
  popped(asked: number, got: number): void {
    if (got < asked) this.#cooldown = AHEAD.window;
  }

  /** Jobs popped ahead had to be handed back: start over as after a pop that ran dry. */
  stranded(): void {
    this.#cooldown = AHEAD.window;
  }

  /**
   * How many jobs the child may hold beyond its slots now (0: pop only for
   * free slots). `longestRunningMs` is how long the oldest job running now
   * has been at it: one that is already long stops popping ahead too.
   */
  allowance(longestRunningMs: number): number {
    if (this.#cooldown > 0 || this.#recorded < AHEAD.window || longestRunningMs > AHEAD.shortMs) return 0;
    let sum = 0;
    for (const ms of this.#recent) {
      if (ms > AHEAD.shortMs) return 0;
      sum += ms;
    }
    const mean = Math.max(sum / AHEAD.window, 0.05);
    return Math.min(AHEAD.max, Math.floor((this.#concurrency * AHEAD.budgetMs) / mean));
  }
}
