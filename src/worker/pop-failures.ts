/**
 * Pops that keep failing: back off, and say so once.
 *
 * A pop can fail for as long as its cause lasts — Redis refusing writes at
 * `maxmemory`, a queue key of the wrong type, a core that errors on a
 * stored value. Trying again at once would spin the CPU and write an error
 * line per try, so a child waits before its next pop: BACKOFF.initialMs,
 * doubling up to `--interval`. A burst of failures is logged when it starts,
 * when the error changes, every REMIND_MS while it lasts (with a count), and
 * once more when a pop works again; the child resumes by itself.
 */
import { errorFields, type Logger } from './logger.js';

export const POP_BACKOFF = { initialMs: 100 } as const;
/** While pops keep failing the same way, remind the log this often (ms). */
const REMIND_MS = 60_000;

export class PopFailures {
  readonly #log: Logger;
  readonly #maxMs: number;
  #failures = 0;
  #firstAt = 0;
  #remindedAt = 0;
  #message = '';
  #delayMs = 0;

  /** `maxMs`: the longest wait between two pops (the `--interval`). */
  constructor(log: Logger, maxMs: number) {
    this.#log = log;
    this.#maxMs = maxMs;
  }

  /** How long to wait before the next pop after the last failure (ms). */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** A pop failed: log it if news, and return how long to wait before the next one (ms; also `delayMs`). */
  failed(error: unknown): number {
    const now = Date.now();
    const message = error instanceof Error ? error.message : String(error);
    this.#delayMs = this.#failures === 0 ? Math.min(POP_BACKOFF.initialMs, this.#maxMs) : Math.min(this.#delayMs * 2, this.#maxMs);
    if (this.#failures === 0 || message !== this.#message) {
      if (this.#failures > 0) this.#log.error({ failures: this.#failures, error: this.#message }, 'pops failed with another error until now');
      this.#log.error({ ...errorFields(error), retryInMs: this.#delayMs }, 'could not pop; trying again with a growing delay, up to --interval');
      this.#message = message;
      this.#firstAt = now;
      this.#remindedAt = now;
      this.#failures = 1;
      return this.#delayMs;
    }
    this.#failures++;
    if (now - this.#remindedAt >= REMIND_MS) {
      this.#remindedAt = now;
      this.#log.error({ failures: this.#failures, sinceMs: now - this.#firstAt, error: message, retryInMs: this.#delayMs }, 'still cannot pop');
    }
    return this.#delayMs;
  }

  /** A pop worked. */
  succeeded(): void {
    if (this.#failures === 0) return;
    this.#log.info({ failures: this.#failures, failingMs: Date.now() - this.#firstAt, error: this.#message }, 'popping works again');
    this.#failures = 0;
  }
}
