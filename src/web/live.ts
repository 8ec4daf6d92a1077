/**
 * Live refresh: one pub/sub subscription per dashboard (opened when the
 * first browser connects, not per browser), fanned out to every open
 * server-sent-events stream as a bare "change" notice. Browsers then fetch
 * the fresh overview fragment themselves, so nothing from Redis travels
 * over this channel and a burst of events costs one refresh, not hundreds.
 */
import type { ServerResponse } from 'node:http';
import { Events, TRACKED_EVENTS } from '../events.js';
import type { Client } from '../client.js';

/** Notices are coalesced: at most one per this many milliseconds. */
const THROTTLE_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 20_000;

export class LiveHub {
  readonly #client: Client;
  readonly #streams = new Set<ServerResponse>();
  #events: Events | undefined;
  #starting: Promise<void> | undefined;
  #pending: NodeJS.Timeout | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(client: Client) {
    this.#client = client;
  }

  /** Number of open streams (for tests and diagnostics). */
  get size(): number {
    return this.#streams.size;
  }

  /** Turn `res` into an event stream until the browser goes away. */
  open(res: ServerResponse): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Connection', 'keep-alive');
    // nginx would otherwise buffer the stream and deliver it in lumps.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    if (this.#closed) {
      res.end();
      return;
    }
    res.write('retry: 3000\n\n');
    this.#streams.add(res);
    res.on('close', () => this.#streams.delete(res));
    this.#keepalive ??= setInterval(() => this.#write(': keepalive\n\n'), KEEPALIVE_MS).unref();
    this.#start().catch(() => undefined);
  }

  // The subscription is shared and kept until close(): reopening it for each
  // browser that comes and goes would only churn connections.
  #start(): Promise<void> {
    this.#starting ??= (async () => {
      const events = new Events(this.#client);
      this.#events = events;
      const notify = (): void => this.#notify();
      events.on('log', notify);
      for (const name of TRACKED_EVENTS) events.on(name, notify);
      // A lost subscriber or an odd payload must not take the server down.
      events.on('error', () => undefined);
      await events.listen();
      // Tell browsers that connected before the subscription was confirmed
      // to refresh once, in case they missed something in between.
      this.#notify();
    })();
    return this.#starting;
  }

  #notify(): void {
    if (this.#pending || this.#closed) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#write('event: change\ndata: {}\n\n');
    }, THROTTLE_MS);
    this.#pending.unref();
  }

  #write(text: string): void {
    for (const res of this.#streams) res.write(text);
  }

  /** End every stream and the subscription. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#pending);
    clearInterval(this.#keepalive);
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    await this.#starting?.catch(() => undefined);
    await this.#events?.close();
  }
}
