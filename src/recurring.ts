/**
 * A recurring job: a template the core turns into an ordinary job every
 * `interval` seconds (children are named `<jid>-1`, `<jid>-2`, …). Created by
 * {@link Queue.recur}, read back by {@link Jobs.get}.
 */
import * as args from './args.js';
import { aboutJob, InvalidArgumentError } from './errors.js';
import { checkStrings, DataSlot, encodeObject, encodeStrings } from './json.js';
import { klassOf, type KlassRef } from './klass.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { CoreArg, CoreReply } from './gateway.js';
import type { JsonObject, JsonValue } from './types.js';
import type { RecurringRecord } from './wire.js';

/** Fields of a recurring job that {@link RecurringJob.update} can change. */
export interface RecurringUpdate {
  priority?: number;
  retries?: number;
  /** Seconds between occurrences; shifts the next occurrence by the difference. */
  interval?: number;
  /** Data of future children (the whole object is replaced). */
  data?: JsonObject;
  klass?: KlassRef;
  /** Move the template (not its already spawned children) to another queue. */
  queue?: string;
  /** Most overdue occurrences spawned at once after a pause; 0 spawns them all. */
  backlog?: number;
  /** Throttles of future children, stored as given (`[]`: none). */
  throttles?: readonly string[];
}

/** A recurring job template: its fields and the calls that change it. */
export class RecurringJob {
  readonly jid: string;
  klass: string;
  /** The queue its children are put into. */
  queue: string;
  /**
   * Data each child starts with. Throws ForeignDataError when another
   * client stored data that is not a JSON object (see {@link RecurringJob.rawData}).
   */
  get data(): JsonObject {
    return this.#data.object;
  }

  set data(value: JsonObject) {
    this.#data.object = value;
  }

  /** The data exactly as the core held it when the template was read (JSON text). */
  get rawData(): string {
    return this.#data.raw;
  }

  priority: number;
  tags: string[];
  retries: number;
  /** Seconds between occurrences. */
  interval: number;
  /** Children spawned so far (the last child is `<jid>-<count>`). */
  count: number;
  /** Most overdue occurrences spawned at once; 0 = all. */
  backlog: number;
  /** Throttles each child needs (the queue's own last); empty when none are named. */
  throttles: string[];

  readonly #client: Client;
  readonly #data: DataSlot;

  /** @internal Recurring jobs come from {@link Queue.recur} and {@link Jobs.get}. */
  constructor(client: Client, record: RecurringRecord) {
    this.#client = client;
    this.jid = record.jid;
    this.klass = record.klass;
    this.queue = record.queue;
    this.#data = new DataSlot(record.jid, record.data);
    this.priority = record.priority;
    this.tags = record.tags;
    this.retries = record.retries;
    this.interval = record.interval;
    this.count = record.count;
    this.backlog = record.backlog;
    this.throttles = record.throttles;
  }

  /** Always `recur`, which tells it apart from a Job. */
  get state(): 'recur' {
    return 'recur';
  }

  private async call(command: string, ...rest: CoreArg[]): Promise<CoreReply> {
    try {
      return await this.#client.call(command, ...rest);
    } catch (error) {
      throw aboutJob(error, this.jid);
    }
  }

  /**
   * When the next child is due (seconds since the epoch), or `null` when the
   * template no longer exists. Read straight from its queue's schedule.
   */
  async next(): Promise<number | null> {
    const score = await this.#client.redis.zscore(this.#client.keys.queueRecur(this.queue), this.jid);
    return score === null ? null : Number(score);
  }

  /** Change fields of the template; only future children see the change. */
  async update(fields: RecurringUpdate): Promise<void> {
    const pairs: CoreArg[] = [];
    const local: Partial<Pick<RecurringJob, 'priority' | 'retries' | 'interval' | 'data' | 'klass' | 'queue' | 'backlog'>> = {};
    if (fields.priority !== undefined) pairs.push('priority', (local.priority = args.finite(fields.priority, 'priority')));
    if (fields.retries !== undefined) pairs.push('retries', (local.retries = args.integer(fields.retries, 'retries')));
    if (fields.interval !== undefined) {
      const interval = args.finite(fields.interval, 'interval');
      if (interval <= 0) throw new InvalidArgumentError(`interval must be greater than 0, got ${interval}`);
      pairs.push('interval', (local.interval = interval));
    }
    if (fields.data !== undefined) {
      pairs.push('data', encodeObject(fields.data, 'data'));
      local.data = fields.data;
    }
    if (fields.klass !== undefined) pairs.push('klass', (local.klass = klassOf(fields.klass)));
    if (fields.queue !== undefined) pairs.push('queue', (local.queue = args.name(fields.queue, 'queue')));
    if (fields.backlog !== undefined) pairs.push('backlog', (local.backlog = args.integer(fields.backlog, 'backlog')));
    // Stored as given (reqless-core's rule): list the queue's own throttle too if children should count against it.
    if (fields.throttles !== undefined) pairs.push('throttles', encodeStrings(fields.throttles, 'throttles'));
    if (pairs.length === 0) return;
    await this.call('recur.update', this.jid, ...pairs);
    Object.assign(this, local);
    if (fields.throttles !== undefined) this.throttles = [...fields.throttles];
  }

  /** Move the template to another queue (already spawned children stay). */
  async move(queue: string): Promise<void> {
    await this.update({ queue });
  }

  /** Add tags that future children get; returns the template's tags. */
  async tag(...tags: string[]): Promise<string[]> {
    const reply = await this.call('recur.tag', this.jid, ...checkStrings(tags, 'tags'));
    this.tags = wire.stringList('recur.tag', wire.json('recur.tag', reply));
    return this.tags;
  }

  /** Remove tags from future children; returns the template's tags. */
  async untag(...tags: string[]): Promise<string[]> {
    const reply = await this.call('recur.untag', this.jid, ...checkStrings(tags, 'tags'));
    this.tags = wire.stringList('recur.untag', wire.json('recur.untag', reply));
    return this.tags;
  }

  /** Stop recurring (children already spawned are untouched). */
  async cancel(): Promise<void> {
    await this.call('unrecur', this.jid);
  }

  /** The template's fields as plain data. */
  toJSON(): Omit<RecurringRecord, 'data'> & { data: JsonValue } {
    return {
      jid: this.jid,
      klass: this.klass,
      queue: this.queue,
      data: this.#data.snapshot,
      priority: this.priority,
      tags: this.tags,
      retries: this.retries,
      interval: this.interval,
      count: this.count,
      backlog: this.backlog,
      throttles: this.throttles,
    };
  }

  /** `<klass jid>`. */
  toString(): string {
    return `<${this.klass} ${this.jid}>`;
  }
}
