/**
 * `now` as Redis's clock tells it.
 *
 * The qless core takes every time from its caller: a pop's lock runs until
 * `now + heartbeat` of the worker that popped, and the next pop anywhere
 * takes the job back once its own `now` is past that. Two machines whose
 * clocks disagree by more than the heartbeat's slack therefore run jobs
 * twice: a worker whose clock is behind locks its jobs in the past as the
 * others see it, and a worker whose clock is ahead takes the others' jobs
 * while they still run. (BullMQ is spared this because Redis expires its
 * locks.)
 *
 * So every qless-ts client sends its machine's time corrected by the offset
 * to Redis's own `TIME`: measured when the connection becomes ready (again
 * after each reconnection or failover) and every minute, halfway through the
 * round trip, and applied once it is half a second or more (a machine that
 * NTP keeps in step keeps its own clock). All qless-ts processes then agree
 * with each other to well within a second, whatever their machines' clocks
 * say. A client's first calls wait for the first measurement (`first`), so
 * that not even a process's first pop goes out on a skewed clock.
 */
import type { Clock, RedisConnection } from './gateway.js';

/** How often the offset is measured again (ms). */
const REMEASURE_MS = 60_000;
/**
 * An offset smaller than this (ms) is taken as none. A measurement is only
 * good to half a round trip, which differs from process to process (more so
 * on a busy machine): processes on one machine, which share its clock
 * exactly, would otherwise each add an error of their own and disagree by
 * milliseconds (enough to let a rate limit's window take one start too
 * many). A clock that far off, on the other hand, is far from what a lock's
 * slack or a rate window can absorb.
 */
const SIGNIFICANT_MS = 500;
/** The longest a call waits for the first measurement (ms): a slow TIME must not hold a client up. */
const FIRST_WAIT_MS = 2000;

export class RedisClock {
  /** Redis's clock minus this machine's, in ms (0 while under SIGNIFICANT_MS). */
  #offsetMs = 0;
  #lastTick = 0;
  #measuring = false;
  readonly #redis: RedisConnection;
  readonly #timer: NodeJS.Timeout;
  readonly #onReady = (): void => {
    void this.measure();
  };
  // A connection that fails (or ends) before it was ever ready: calls need
  // not wait for a measurement that cannot come soon; they go out on the
  // machine's clock, and the next ready event measures.
  readonly #onTrouble = (): void => this.#firstDone();
  #firstDone: () => void = () => undefined;
  /**
   * Settles once the first measurement has answered (or failed), or after
   * FIRST_WAIT_MS: what calls made before it wait for (the gateway's
   * clockPending).
   */
  readonly first: Promise<void>;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    this.first = new Promise<void>((resolve) => {
      // Not unref'd: a call waiting on it must not let the process end
      // with the call unsent (close() clears it).
      const cap = setTimeout(resolve, FIRST_WAIT_MS);
      this.#firstDone = () => {
        clearTimeout(cap);
        resolve();
      };
    });
    // A lazy connection (`lazyConnect`) connects for its first command, and
    // an ended one never will: waiting for a measurement before that command
    // would wait for nothing.
    if (redis.status === 'wait' || redis.status === 'end') this.#firstDone();
    redis.on('ready', this.#onReady);
    redis.once('error', this.#onTrouble);
    redis.once('end', this.#onTrouble);
    if (redis.status === 'ready') void this.measure();
    this.#timer = setInterval(() => void this.measure(), REMEASURE_MS).unref();
  }

  /**
   * Seconds since the epoch by Redis's clock, strictly increasing: two calls
   * in the same millisecond are told apart by a microsecond (the core orders
   * equal-priority jobs by put time), and a new offset never takes the clock
   * back.
   */
  readonly now: Clock = () => {
    const now = (Date.now() + this.#offsetMs) / 1000;
    this.#lastTick = now > this.#lastTick ? now : this.#lastTick + 1e-6;
    return this.#lastTick;
  };

  /** Measure the offset again; resolves once done (a failed measurement keeps the last one). */
  measure(): Promise<void> {
    if (this.#measuring || this.#redis.status !== 'ready') return Promise.resolve();
    this.#measuring = true;
    const sent = Date.now();
    return this.#redis.time().then(
      ([seconds, micros]) => {
        const received = Date.now();
        const offset = Number(seconds) * 1000 + Number(micros) / 1000 - (sent + received) / 2;
        this.#offsetMs = Math.abs(offset) < SIGNIFICANT_MS ? 0 : offset;
        this.#measuring = false;
        this.#firstDone();
      },
      // TIME refused (an ACL without it) or the connection went away: keep
      // the last offset; the next ready event or minute tries again.
      () => {
        this.#measuring = false;
        this.#firstDone();
      },
    );
  }

  /** Stop measuring (the client is closing). */
  close(): void {
    this.#firstDone();
    clearInterval(this.#timer);
    this.#redis.off('ready', this.#onReady);
    this.#redis.off('error', this.#onTrouble);
    this.#redis.off('end', this.#onTrouble);
  }
}
