/**
 * The process's own time: a monotonic clock (ms) that leaves out the
 * stretches in which the event loop did not run — a job blocking it, a CPU
 * shared with busier processes, a long garbage collection.
 *
 * Why: "this job has been running for a second" should mean the job had
 * that second, not that the whole process was frozen for most of it. A timer
 * ticks every TICK_MS while someone needs the measure (`measure(true)`);
 * whatever a tick comes later than TICK_MS + TOLERANCE_MS is counted as a
 * stall. The tolerance is generous: on a busy machine every timer is a
 * little late, and that is time the process had, only in smaller pieces;
 * what is left out is the process being frozen. Stalls while nobody
 * measures are not seen, so compare only times taken while measuring.
 */

/** How often the clock ticks while measuring (ms). */
const TICK_MS = 25;
/** Lateness of a tick that still counts as the process running (ms). */
const TOLERANCE_MS = 100;

export class OwnTime {
  #stalled = 0;
  #lastTick = 0;
  #timer: NodeJS.Timeout | undefined;
  #users = 0;

  /** Start (true) or stop (false) measuring for one user; the clock ticks while anyone measures. */
  measure(on: boolean): void {
    this.#users = Math.max(0, this.#users + (on ? 1 : -1));
    if (this.#users > 0 && this.#timer === undefined) {
      this.#lastTick = performance.now();
      this.#timer = setInterval(() => this.#tick(), TICK_MS).unref();
    } else if (this.#users === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Own milliseconds: monotonic, stalls left out (including one that just ended). */
  now(): number {
    const now = performance.now();
    return now - this.#stalled - (this.#timer === undefined ? 0 : this.#late(now));
  }

  #late(now: number): number {
    return Math.max(0, now - this.#lastTick - TICK_MS - TOLERANCE_MS);
  }

  #tick(): void {
    const now = performance.now();
    this.#stalled += this.#late(now);
    this.#lastTick = now;
  }
}

/** The one clock of this process (there is one event loop to measure). */
export const ownTime = new OwnTime();
