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
 * round trip. All qless-ts processes then agree with each other to within
 * a network round trip, whatever their machines' clocks say. Until the first
 * measurement answers, the offset is 0 (the machine's clock, as before).
 */
import type { Clock, RedisConnection } from './gateway.js';

/** How often the offset is measured again (ms). */
const REMEASURE_MS = 60_000;

export class RedisClock {
  /** Redis's clock minus this machine's, in ms. */
  #offsetMs = 0;
  #lastTick = 0;
  #measuring = false;
  readonly #redis: RedisConnection;
  readonly #timer: NodeJS.Timeout;
  readonly #onReady = (): void => {
    void this.measure();
  };

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    redis.on('ready', this.#onReady);
    if (redis.status === 'ready') void this.measure();
    this.#timer = setInterval(() => void this.measure(), REMEASURE_MS).unref();
  }

  /** The offset last measured (Redis's clock minus this machine's), in ms. */
  get offsetMs(): number {
    return this.#offsetMs;
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
        this.#offsetMs = Number(seconds) * 1000 + Number(micros) / 1000 - (sent + received) / 2;
        this.#measuring = false;
      },
      // TIME refused (an ACL without it) or the connection went away: keep
      // the last offset; the next ready event or minute tries again.
      () => {
        this.#measuring = false;
      },
    );
  }

  /** Stop measuring (the client is closing). */
  close(): void {
    clearInterval(this.#timer);
    this.#redis.off('ready', this.#onReady);
  }
}
