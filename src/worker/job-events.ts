/**
 * The child's side of the job events (src/hooks.ts): each run's start and
 * end are told to the listeners registered in the child, and — when the
 * supervisor asked for them (it serves metrics, or has listeners of its
 * own) — relayed to it over IPC, a few at a time (one message per
 * RELAY_DELAY_MS at most, rather than one per job).
 */
import { hooks, type JobEventMap, type JobEventName, type JobInfo } from '../hooks.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import { sendToParent } from './parent.js';
import type { RelayedEvent, RelaySettings } from './protocol.js';

/** How long an event may wait for others to travel with. */
const RELAY_DELAY_MS = 50;
/** Send at once when this many are waiting. */
const RELAY_BATCH = 100;

/** The job's fields that events carry (the Job itself in the child, a copy over IPC). */
export function jobInfo(job: JobInfo): RelayedEvent['job'] {
  return { jid: job.jid, klass: job.klass, queue: job.queue, worker: job.worker, attempt: job.attempt, retries: job.retries, remaining: job.remaining };
}

export class JobEvents {
  readonly #log: Logger;
  readonly #relay: RelaySettings | undefined;
  #waiting: RelayedEvent[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(log: Logger, relay: RelaySettings | undefined) {
    this.#log = log;
    this.#relay = relay;
  }

  /** Tell listeners here, and the supervisor when it listens. */
  emit<E extends JobEventName>(event: E, payload: JobEventMap[E]): void {
    hooks.emit(event, payload, (error, name) => this.#log.warn({ event: name, jid: payload.job.jid, ...errorFields(error) }, 'a job event listener failed'));
    if (!this.#relay || (event === 'job:start' && !this.#relay.start)) return;
    const p = payload as Partial<JobEventMap['job:fail'] & JobEventMap['job:retry'] & JobEventMap['job:lost']>;
    const relayed: RelayedEvent = { event, job: jobInfo(payload.job) };
    if ('attempt' in payload) relayed.job.attempt = payload.attempt;
    if ('queue' in payload) relayed.job.queue = payload.queue;
    if (p.durationMs !== undefined) relayed.durationMs = p.durationMs;
    if (p.group !== undefined) relayed.group = p.group;
    if (p.delay !== undefined) relayed.delay = p.delay;
    if (p.reason !== undefined) relayed.reason = p.reason;
    if (p.error !== undefined) relayed.error = { name: p.error.name, message: p.error.message, ...(p.error.stack ? { stack: p.error.stack } : {}) };
    this.#waiting.push(relayed);
    if (this.#waiting.length >= RELAY_BATCH) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), RELAY_DELAY_MS);
  }

  /** Send what is waiting (also before the child exits). */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting.length === 0) return;
    await sendToParent({ type: 'jobs', events: this.#waiting.splice(0) });
  }
}
