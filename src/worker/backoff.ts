/**
 * Restart back-off for one child slot: a child that dies unexpectedly is
 * replaced after 100 ms, then 200 ms, 400 ms … up to 10 s while it keeps
 * dying young, so a child that crashes at start does not spin the CPU. A
 * child that lived a while (10 s) resets the delay.
 */
export const BACKOFF = { initialMs: 100, maxMs: 10_000, resetAfterMs: 10_000 } as const;

export class Backoff {
  #next: number = BACKOFF.initialMs;

  /** The delay before replacing a child that lived `livedMs`. */
  delay(livedMs: number): number {
    if (livedMs >= BACKOFF.resetAfterMs) this.#next = BACKOFF.initialMs;
    const delay = this.#next;
    this.#next = Math.min(this.#next * 2, BACKOFF.maxMs);
    return delay;
  }
}
