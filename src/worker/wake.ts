/**
 * A wake-up call for a loop that sleeps: `wait(ms)` resolves after `ms`, or
 * at once when `wake()` is called. A wake-up that comes while nobody waits
 * is kept for the next `wait`, so none is missed between two waits.
 */
export class Wake {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
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
