/**
 * Keeps the zone tables of cron templates fresh while workers run: the core
 * has no time-zone data and matches a cron template against the UTC-offset
 * table its client stored (ten years ahead), so somebody must send a new
 * table before one runs out, and when the runtime's zone rules are newer
 * than the table's. The supervisor does it for its queues once at start
 * and then every REFRESH_EVERY_MS; each template is only written when its
 * table is short (see Queue.refreshZoneTables), so many workers on the
 * same queues cost a few reads.
 */
import type { Client } from '../client.js';
import { errorFields, type Logger } from './logger.js';

/** Twelve hours: a table is refreshed two years before it runs out, so any pace would do. */
export const REFRESH_EVERY_MS = 12 * 3600 * 1000;

export class ZoneTableKeeper {
  readonly #client: Client;
  readonly #queues: readonly string[];
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(client: Client, queues: readonly string[], log: Logger) {
    this.#client = client;
    this.#queues = queues;
    this.#log = log;
  }

  /** Check now, then every REFRESH_EVERY_MS until {@link stop}. */
  start(): void {
    this.#running = this.#check();
    this.#timer = setInterval(() => {
      this.#running ??= this.#check();
    }, REFRESH_EVERY_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #check(): Promise<void> {
    try {
      for (const name of this.#queues) {
        const refreshed = await this.#client.queue(name).refreshZoneTables();
        if (refreshed.length > 0) this.#log.info({ queue: name, jids: refreshed }, 'sent fresh time-zone tables for cron jobs');
      }
    } catch (error) {
      // Redis away or a template damaged: the next round tries again, and
      // the stored tables have two years left.
      this.#log.warn({ ...errorFields(error) }, 'could not refresh the time-zone tables of cron jobs');
    } finally {
      this.#running = undefined;
    }
  }
}
