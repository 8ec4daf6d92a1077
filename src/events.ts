/**
 * `client.events`: what the core publishes, over a subscriber connection of
 * its own (a subscribed Redis connection can do nothing else).
 *
 * Three kinds of channel:
 * - tracked-job channels `ql:canceled`, `ql:completed`, `ql:failed`,
 *   `ql:popped`, `ql:stalled`, `ql:put`, `ql:track`, `ql:untrack`,
 *   `ql:progress`: the bare
 *   jid of a **tracked** job (see {@link Job.track});
 * - `ql:log`: a JSON event for every put, completion, failure, cancel, lost
 *   lock and config change, tracked or not ({@link LogEvent});
 * - `ql:w:<worker>`: the events addressed to one worker: its jobs' lost
 *   locks and cancellations ({@link WorkerEvent}).
 *
 * Handlers are registered with `on`/`onWorker`; `listen()` subscribes to the
 * channels they need and resolves once Redis confirmed. After a reconnect the
 * subscriptions are renewed by the connection itself.
 */
import type { RedisConnection } from './gateway.js';
import { directReplies } from './connection/redis.js';
import { InvalidArgumentError, QlessError } from './errors.js';
import type { Client } from './client.js';
import type { ProgressValue } from './types.js';
import { stageMark } from './stage-marks.js';

/** Channels that carry the jid of a tracked job. */
export type TrackedEventName = 'canceled' | 'completed' | 'failed' | 'popped' | 'stalled' | 'put' | 'track' | 'untrack' | 'progress';

/** Every tracked-job channel, without its `ql:` prefix. */
export const TRACKED_EVENTS: readonly TrackedEventName[] = ['canceled', 'completed', 'failed', 'popped', 'stalled', 'put', 'track', 'untrack', 'progress'];

/** A job was put or requeued into `queue`. */
export interface PutEvent { event: 'put'; jid: string; queue: string }
/** `worker` no longer holds the job (moved by someone else, timed out, or its lock expired). */
export interface LockLostEvent { event: 'lock_lost'; jid: string; worker: string }
/** A job failed (`worker` is the one that failed it or lost it). */
export interface FailedEvent { event: 'failed'; jid: string; group: string; message: string; worker: string }
/** A job completed for good in `queue`. */
export interface CompletedEvent { event: 'completed'; jid: string; queue: string }
/** A job completed in `queue` and moved on to `to`. */
export interface AdvancedEvent { event: 'advanced'; jid: string; queue: string; to: string }
/** A job was canceled; `queue` and `worker` are `false` when the jid named no job. */
export interface CanceledEvent { event: 'canceled'; jid: string; queue: string | false; worker: string | false }
/** A config option was set (`value` is the text stored). */
export interface ConfigSetEvent { event: 'config_set'; option: string; value: string }
/** A config option was unset. */
export interface ConfigUnsetEvent { event: 'config_unset'; option: string }
/** A running job reported how far it got (see {@link Job.progress}). */
export interface ProgressEvent { event: 'progress'; jid: string; queue: string; worker: string; progress: ProgressValue }

/** An event of `ql:log`; narrow on `event`. */
export type LogEvent =
  | PutEvent
  | LockLostEvent
  | FailedEvent
  | CompletedEvent
  | AdvancedEvent
  | CanceledEvent
  | ConfigSetEvent
  | ConfigUnsetEvent
  | ProgressEvent;

/**
 * An event on a worker's channel: for every one of them the worker should
 * stop working on `jid`. (`put` is never sent by the core today; other
 * clients treat it the same way, so it is accepted.)
 */
export type WorkerEvent = LockLostEvent | CanceledEvent | PutEvent;

/** Handler signatures by event name. */
export interface EventHandlers {
  canceled: (jid: string) => void;
  completed: (jid: string) => void;
  failed: (jid: string) => void;
  popped: (jid: string) => void;
  stalled: (jid: string) => void;
  put: (jid: string) => void;
  track: (jid: string) => void;
  untrack: (jid: string) => void;
  /** A tracked job reported progress (read it with {@link Jobs.get}). */
  progress: (jid: string) => void;
  /** Every `ql:log` event. */
  log: (event: LogEvent) => void;
  /** A handler threw, or a payload could not be decoded. */
  error: (error: Error) => void;
}

/** Any name accepted by {@link Events.on}. */
export type EventName = keyof EventHandlers;

type AnyHandler = (arg: never) => void;

const NAMES: ReadonlySet<string> = new Set<string>([...TRACKED_EVENTS, 'log', 'error']);

function field(value: Record<string, unknown>, key: string): string {
  const v = value[key];
  return typeof v === 'string' ? v : String(v ?? '');
}

function stringOrFalse(value: unknown): string | false {
  return value === false ? false : typeof value === 'string' ? value : String(value ?? '');
}

/** Decode a `ql:log` or `ql:w:<worker>` payload; `undefined` for events this version does not know. */
export function parseLogEvent(payload: string): LogEvent | undefined {
  const value: unknown = JSON.parse(payload);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QlessError(`ql:log payload is not a JSON object: ${payload}`, 'UNEXPECTED_REPLY');
  }
  const v = value as Record<string, unknown>;
  switch (v['event']) {
    case 'put':
      return { event: 'put', jid: field(v, 'jid'), queue: field(v, 'queue') };
    case 'lock_lost':
      return { event: 'lock_lost', jid: field(v, 'jid'), worker: field(v, 'worker') };
    case 'failed':
      return { event: 'failed', jid: field(v, 'jid'), group: field(v, 'group'), message: field(v, 'message'), worker: field(v, 'worker') };
    case 'completed':
      return { event: 'completed', jid: field(v, 'jid'), queue: field(v, 'queue') };
    case 'advanced':
      return { event: 'advanced', jid: field(v, 'jid'), queue: field(v, 'queue'), to: field(v, 'to') };
    case 'canceled':
      return { event: 'canceled', jid: field(v, 'jid'), queue: stringOrFalse(v['queue']), worker: stringOrFalse(v['worker']) };
    case 'config_set':
      return { event: 'config_set', option: field(v, 'option'), value: field(v, 'value') };
    case 'config_unset':
      return { event: 'config_unset', option: field(v, 'option') };
    case 'progress': {
      const progress = v['progress'];
      const valid = typeof progress === 'number' || (typeof progress === 'object' && progress !== null && !Array.isArray(progress));
      if (!valid) return undefined;
      return { event: 'progress', jid: field(v, 'jid'), queue: field(v, 'queue'), worker: field(v, 'worker'), progress: progress as ProgressValue };
    }
    default:
      return undefined;
  }
}

/** `client.events`: handlers for what the core publishes, and the subscription that feeds them. */
export class Events {
  readonly #client: Client;
  readonly #handlers = new Map<EventName, Set<AnyHandler>>();
  readonly #workers = new Map<string, Set<(event: WorkerEvent) => void>>();
  #subscriber: RedisConnection | undefined;
  #subscribed = new Set<string>();
  #listening = false;
  #closed = false;
  #sync: Promise<void> = Promise.resolve();

  /** @internal Use `client.events`. */
  constructor(client: Client) {
    this.#client = client;
  }

  /** True between {@link Events.listen} and {@link Events.close}. */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Call `handler` for every event of that name (several handlers may share
   * a name). Tracked-job events pass the jid; `log` passes a {@link LogEvent}.
   */
  on<K extends EventName>(name: K, handler: EventHandlers[K]): this {
    if (!NAMES.has(name)) throw new InvalidArgumentError(`unknown event "${String(name)}"; known: ${[...NAMES].join(', ')}`);
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    set.add(handler as AnyHandler);
    this.#resync();
    return this;
  }

  /** Remove one handler, or every handler of that name. */
  off<K extends EventName>(name: K, handler?: EventHandlers[K]): this {
    const set = this.#handlers.get(name);
    if (handler === undefined) set?.clear();
    else set?.delete(handler as AnyHandler);
    this.#resync();
    return this;
  }

  /**
   * Call `handler` for every event addressed to the worker `workerName`
   * (channel `ql:w:<workerName>`): the jobs it holds that it lost or that
   * were canceled. Defaults to this client's worker name.
   */
  onWorker(handler: (event: WorkerEvent) => void): this;
  onWorker(workerName: string, handler: (event: WorkerEvent) => void): this;
  onWorker(a: string | ((event: WorkerEvent) => void), b?: (event: WorkerEvent) => void): this {
    const [name, handler] = typeof a === 'function' ? [this.#client.workerName, a] : [a, b];
    if (typeof name !== 'string' || name === '' || typeof handler !== 'function') {
      throw new InvalidArgumentError('onWorker takes a worker name and a handler');
    }
    let set = this.#workers.get(name);
    if (!set) this.#workers.set(name, (set = new Set()));
    set.add(handler);
    this.#resync();
    return this;
  }

  /** Remove one handler of a worker's channel, or all of them. */
  offWorker(workerName: string, handler?: (event: WorkerEvent) => void): this {
    const set = this.#workers.get(workerName);
    if (handler === undefined) set?.clear();
    else set?.delete(handler);
    if (set?.size === 0) this.#workers.delete(workerName);
    this.#resync();
    return this;
  }

  /**
   * Subscribe to the tracked-job channels, plus `ql:log` when a `log`
   * handler exists, plus each watched worker's channel. Resolves once Redis
   * confirmed the subscriptions; handlers added later are subscribed to
   * automatically (await `listen()` again to wait for that).
   */
  async listen(): Promise<void> {
    this.#closed = false;
    this.#listening = true;
    await this.#queueSync();
  }

  /** Unsubscribe and close the subscriber connection. Handlers are kept; `listen()` starts again. */
  async close(): Promise<void> {
    this.#listening = false;
    this.#closed = true;
    await this.#sync.catch(() => undefined);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#subscribed.clear();
    if (!subscriber) return;
    try {
      if (subscriber.status === 'ready') await subscriber.quit();
      else subscriber.disconnect();
    } catch {
      subscriber.disconnect();
    }
  }

  #wanted(): Set<string> {
    const wanted = new Set<string>();
    if (!this.#listening) return wanted;
    const keys = this.#client.keys;
    for (const name of TRACKED_EVENTS) wanted.add(keys.channel(name));
    if ((this.#handlers.get('log')?.size ?? 0) > 0) wanted.add(keys.channel('log'));
    for (const [name, set] of this.#workers) if (set.size > 0) wanted.add(keys.workerChannel(name));
    return wanted;
  }

  #resync(): void {
    if (!this.#listening) return;
    this.#queueSync().catch((error: unknown) => this.#report(error));
  }

  #queueSync(): Promise<void> {
    const next = this.#sync.catch(() => undefined).then(() => this.#doSync());
    this.#sync = next;
    return next;
  }

  async #doSync(): Promise<void> {
    if (this.#closed) return;
    const wanted = this.#wanted();
    const add = [...wanted].filter((c) => !this.#subscribed.has(c));
    const drop = [...this.#subscribed].filter((c) => !wanted.has(c));
    if (add.length === 0 && drop.length === 0) return;
    const subscriber = this.#connect();
    if (add.length > 0) {
      await subscriber.subscribe(...add);
      for (const c of add) this.#subscribed.add(c);
    }
    if (drop.length > 0) {
      await subscriber.unsubscribe(...drop);
      for (const c of drop) this.#subscribed.delete(c);
    }
  }

  #connect(): RedisConnection {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = this.#client.redis.duplicate();
    subscriber.on('error', () => undefined);
    // Each event handled as soon as its bytes are read, not a tick later
    // (see directReplies): an idle worker wakes on a put's event.
    directReplies(subscriber);
    subscriber.on('message', (channel: string, message: string) => this.#dispatch(channel, message));
    this.#subscriber = subscriber;
    return subscriber;
  }

  #dispatch(channel: string, message: string): void {
    stageMark('event dispatched');
    const parsed = this.#client.keys.parseChannel(channel);
    if (parsed === undefined) return;
    if ('worker' in parsed) {
      const handlers = this.#workers.get(parsed.worker);
      const event = this.#decode(message);
      if (!event || !handlers) return;
      if (event.event !== 'lock_lost' && event.event !== 'canceled' && event.event !== 'put') return;
      for (const handler of [...handlers]) this.#invoke(handler, event);
    } else if (parsed.name === 'log') {
      const event = this.#decode(message);
      if (event) this.#emit('log', event);
    } else {
      this.#emit(parsed.name as TrackedEventName, message);
    }
  }

  #decode(message: string): LogEvent | undefined {
    try {
      return parseLogEvent(message);
    } catch (error) {
      this.#report(error);
      return undefined;
    }
  }

  #emit(name: EventName, arg: unknown): void {
    const set = this.#handlers.get(name);
    if (!set) return;
    for (const handler of [...set]) this.#invoke(handler as (arg: unknown) => void, arg);
  }

  #invoke<T>(handler: (arg: T) => void, arg: T): void {
    try {
      handler(arg);
    } catch (error) {
      this.#report(error);
    }
  }

  // Like an EventEmitter: without an `error` handler, an error is thrown
  // (asynchronously, so it cannot break the subscriber's message loop).
  #report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const handlers = this.#handlers.get('error');
    if (handlers && handlers.size > 0) {
      for (const handler of [...handlers]) {
        try {
          (handler as (e: Error) => void)(err);
        } catch {
          // An error handler that throws has nowhere left to report to.
        }
      }
      return;
    }
    queueMicrotask(() => {
      throw err;
    });
  }
}
