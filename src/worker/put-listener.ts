/**
 * Hearing of new work while asleep: the child's `ql:log` subscription.
 *
 * A child that found every queue empty sleeps `--interval` seconds, but
 * wakes at once when `ql:log` announces a job put (or advanced) into one of
 * its queues, or a lost lock (the job it names may be back at the head of
 * one of its queues: a lock that expired, or jobs another child popped ahead
 * and handed back; the event names no queue, and it is rare).
 *
 * Every put, completion and failure of every worker is published on
 * `ql:log`, so a child that keeps finding work has no use for it: after
 * BUSY_UNSUBSCRIBE_MS of pops that all found work it drops the
 * subscription, and takes it again before it next sleeps — subscribe, then
 * pop once more, so that a put made between the empty pop and the
 * subscription is not missed (the loop in src/worker/child.ts does that).
 */
import type { Client } from '../client.js';
import type { LogEvent } from '../events.js';
import { stageMark } from '../stage-marks.js';

/** A child that has found work on every pop for this long drops its `ql:log` subscription. */
const BUSY_UNSUBSCRIBE_MS = 250;

export class PutListener {
  readonly #client: Client;
  readonly #queues: ReadonlySet<string>;
  readonly #wake: () => void;
  readonly #onLog = (event: LogEvent): void => this.#onLogEvent(event);
  #subscribed = false;
  #paused = false;
  /** Since when every pop found work (undefined after an empty one). */
  #findingWorkSince: number | undefined;

  /** `wake` is called for every event that may mean work in `queues`. */
  constructor(client: Client, queues: ReadonlySet<string>, wake: () => void) {
    this.#client = client;
    this.#queues = queues;
    this.#wake = wake;
  }

  /** Whether the subscription is on (or being set up). */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** Subscribe; resolves once Redis confirmed it. */
  async subscribe(): Promise<void> {
    if (this.#subscribed) return;
    this.#subscribed = true;
    const events = this.#client.events;
    events.on('log', this.#onLog);
    await events.listen();
  }

  /** Stop waking the child (it is stopping: it pops no more). */
  pause(): void {
    this.#paused = true;
  }

  /** A pop found work: after a while of nothing but work, stop listening for puts. */
  foundWork(): void {
    const now = Date.now();
    this.#findingWorkSince ??= now;
    if (!this.#subscribed || now - this.#findingWorkSince < BUSY_UNSUBSCRIBE_MS) return;
    this.#subscribed = false;
    this.#client.events.off('log', this.#onLog);
  }

  /** A pop found nothing. */
  foundNothing(): void {
    this.#findingWorkSince = undefined;
  }

  #onLogEvent(event: LogEvent): void {
    if (this.#paused) return;
    if ((event.event === 'put' && this.#queues.has(event.queue)) || (event.event === 'advanced' && this.#queues.has(event.to)) || event.event === 'lock_lost') {
      stageMark('put event parsed');
      this.#wake();
    }
  }
}
