/**
 * `client.workers` and `client.queues`: who is working, and what each queue
 * holds. Workers are known to the core by the name they pop and heartbeat
 * with, and are forgotten after `max-worker-age` seconds (default a day) of
 * silence.
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

  /** Every known worker, most recently seen first, with its job counts. */
  async counts(): Promise<WorkerCounts[]> {
    return wire.workerCounts('workers', await this.#client.call('workers'));
  }

  /** The jobs one worker holds (empty lists for an unknown name). */
  async get(name: string): Promise<WorkerJobs> {
    return wire.workerJobs('workers', await this.#client.call('workers', args.name(name, 'worker name')));
  }

  /** Drop workers from the listing (they reappear on their next pop or heartbeat). */
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
