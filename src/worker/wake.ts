/**
 * A wake-up call for a loop that sleeps: `wait(ms)` resolves after `ms`, or
 * at once when `wake()` is called. A wake-up that comes while nobody waits
 * is kept for the next `wait`, so none is missed between two waits.
 *
 * Wake-ups come in two kinds: `wake()` for news (a put, a slot freed, a
 * trip to collect, a stop: something the loop has not seen yet), and
 * `nudge()` for a loop that only has to look again at what it knows (a run
 * it already accounted for). `news` counts the first kind, so that the loop
 * can tell whether anything new came while a trip was in flight, and sleep
 * through nudges with `waitForNews`.
 */
export class Wake {
  #pending = false;
  #resolve: (() => void) | undefined;
  #news = 0;

  /** How many wake-ups for news there have been. */
  get news(): number {
    return this.#news;
  }

  wake(): void {
    this.#news++;
    this.nudge();
  }

  nudge(): void {
    const resolve = this.#resolve;
    if (resolve) {
      this.#resolve = undefined;
      resolve();
    } else {
      this.#pending = true;
    }
  }

  /**
   * Forget a wake-up left for the next `wait`: for a loop that has just
   * looked at everything a wake-up could be about (one it caused itself,
   * in particular, must not cut its next sleep short).
   */
  clear(): void {
    this.#pending = false;
  }

  /** Sleep until a wake-up for news after the `since`-th, or `ms` milliseconds at most: nudges do not end it. */
  async waitForNews(since: number, ms: number): Promise<void> {
    const until = performance.now() + ms;
    for (let left = ms; left > 0 && this.#news === since; left = until - performance.now()) await this.wait(left);
  }

  /** Sleep until woken, or `ms` milliseconds at most (forever when omitted). */
  wait(ms?: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#resolve = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.#resolve = undefined;
          resolve();
        }, ms);
      }
    });
  }
}
