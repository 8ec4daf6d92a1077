/**
 * `client.workers` and `client.queues`: who is working, and what each queue
 * holds. Workers are known to the core by the name they pop and heartbeat
 * with, and are forgotten after `max-worker-age` seconds (default a day) of
 * silence, or sooner by {@link Workers.deregister}.
 */
import * as args from './args.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { QueueCounts, WorkerCounts, WorkerJobs } from './types.js';

/** `client.workers`: the workers the core knows and the jobs they hold. */
export class Workers {
  readonly #client: Client;

  /** @internal Use `client.workers`. */
  constructor(client: Client) {
    this.#client = client;
  }

  /** Every known worker, most recently seen first, with its job counts and when it was last seen. */
  async counts(): Promise<WorkerCounts[]> {
    // The listing first: it prunes the workers older than max-worker-age.
    const listing = await this.#client.call('workers');
    // The core's listing does not say when each worker was last seen (and
    // its reply must stay as qless-core's), so that is read from the key.
    const seen = wire.scores('workers', await this.#client.redis.zrevrange(this.#client.keys.workers, 0, -1, 'WITHSCORES'));
    return wire.workerCounts('workers', listing, seen);
  }

  /** The jobs one worker holds (empty lists for an unknown name). */
  async get(name: string): Promise<WorkerJobs> {
    return wire.workerJobs('workers', await this.#client.call('workers', args.name(name, 'worker name')));
  }

  /**
   * Forget workers: drop them from the listing (a worker still running
   * reappears on its next pop or heartbeat; the jobs it holds are untouched).
   */
  async deregister(...names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.#client.call('worker.deregister', ...names.map((n) => args.name(n, 'worker name')));
  }
}

/** `client.queues`: every known queue at once. */
export class Queues {
  readonly #client: Client;

  /** @internal Use `client.queues`. */
  constructor(client: Client) {
    this.#client = client;
  }

  /** Counts of every known queue, oldest queue first. */
  async counts(): Promise<QueueCounts[]> {
    const values = wire.jsonList('queues', await this.#client.call('queues'));
    return values.map((value) => wire.queueCounts('queues', value));
  }
}
