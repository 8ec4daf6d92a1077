/**
 * A recurring job: a template the core turns into an ordinary job every
 * `interval` seconds or at each time of a cron schedule (children are named
 * `<jid>-1`, `<jid>-2`, …). Created by {@link Queue.recur}, read back by
 * {@link Jobs.get}.
 *
 * A cron template carries its zone's UTC offsets for the years ahead (the
 * core has no zone data); {@link RecurringJob.update} sends a fresh table
 * every time, and {@link RecurringJob.refreshZoneTable} does when the stored
 * one runs short or this runtime knows newer zone rules.
 */
import * as args from './args.js';
import { aboutJob, InvalidArgumentError } from './errors.js';
import { checkStrings, DataSlot, encodeObject, encodeStrings } from './json.js';
import { klassOf, type KlassRef } from './klass.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { CoreArg, CoreReply } from './gateway.js';
import type { JsonObject, JsonValue } from './types.js';
import type { CronRecord, RecurringRecord } from './wire.js';
import { describeCron } from './cron/describe.js';
import { parseCron, type CronSchedule } from './cron/parse.js';
import { nextRuns } from './cron/schedule.js';
import { storedCron, storedTableIsShort } from './cron/stored.js';
import { DEFAULT_TIME_ZONE } from './cron/zone.js';

/** Fields of a recurring job that {@link RecurringJob.update} can change. */
export interface RecurringUpdate {
  priority?: number;
  retries?: number;
  /**
   * Seconds between occurrences; shifts the next occurrence by the
   * difference. Not for a cron template (refused): give it `cron`.
   */
  interval?: number;
  /**
   * A new cron expression (see {@link CronRecurOptions.cron}); the next
   * child is then the first match after now. An interval template becomes a
   * cron one.
   */
  cron?: string;
  /** A cron template's new zone (with or without a new `cron`). */
  timezone?: string;
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
  /**
   * Most overdue occurrences spawned at once; 0 = all. For a cron template:
   * the most recent ones, counted in occurrences, not in intervals.
   */
  backlog: number;
  /** Throttles each child needs (the queue's own last); empty when none are named. */
  throttles: string[];
  /**
   * A cron template's expression as written, or null for an interval
   * template (then {@link RecurringJob.interval} is the schedule; for a cron
   * one it is the gap between the latest two occurrences, which is what
   * other qless clients show).
   */
  cron: string | null;
  /** A cron template's zone, or null for an interval template. */
  timezone: string | null;

  readonly #client: Client;
  #zone: Pick<CronRecord, 'zoneUntil' | 'zoneTzdata'> | null;
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
    this.cron = record.cron?.expression ?? null;
    this.timezone = record.cron?.timezone ?? null;
    this.#zone = record.cron ? { zoneUntil: record.cron.zoneUntil, zoneTzdata: record.cron.zoneTzdata } : null;
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
  async update(fields: RecurringUpdate = {}): Promise<void> {
    const pairs: CoreArg[] = [];
    const local: Partial<Pick<RecurringJob, 'priority' | 'retries' | 'interval' | 'data' | 'klass' | 'queue' | 'backlog' | 'cron' | 'timezone'>> = {};
    if (fields.priority !== undefined) pairs.push('priority', (local.priority = args.finite(fields.priority, 'priority')));
    if (fields.retries !== undefined) pairs.push('retries', (local.retries = args.integer(fields.retries, 'retries')));
    const cron = fields.cron ?? this.cron ?? undefined;
    if (fields.interval !== undefined && cron !== undefined) {
      throw new InvalidArgumentError(
        fields.cron === undefined
          ? `${this.jid} runs on a cron schedule (${this.cron}); give it a new cron expression, not an interval`
          : 'give either cron (with timezone) or interval, not both',
      );
    }
    if (fields.timezone !== undefined && cron === undefined) {
      throw new InvalidArgumentError(`${this.jid} runs every ${this.interval} seconds; a timezone applies to a cron schedule: give cron too`);
    }
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
    // A cron template's update always carries a fresh zone table (the core
    // keeps the next occurrence when the schedule itself is unchanged).
    let zone: CronRecord | undefined;
    if (cron !== undefined && (pairs.length > 0 || fields.cron !== undefined || fields.timezone !== undefined)) {
      zone = this.#cronPair(pairs, cron, fields.timezone ?? this.timezone ?? DEFAULT_TIME_ZONE);
      local.cron = zone.expression;
      local.timezone = zone.timezone;
    }
    if (pairs.length === 0) return;
    await this.call('recur.update', this.jid, ...pairs);
    Object.assign(this, local);
    if (fields.throttles !== undefined) this.throttles = [...fields.throttles];
    if (zone) this.#zone = zone;
  }

  /** Appends `cron <value>` with a table built now; returns what the core will then hold. */
  #cronPair(pairs: CoreArg[], expression: string, timeZone: string): CronRecord {
    const stored = storedCron(expression, timeZone, this.#client.now());
    pairs.push('cron', stored.updateValue);
    return {
      expression: stored.compiled.schedule.expression,
      timezone: stored.compiled.timeZone,
      zoneUntil: stored.compiled.table.until,
      zoneTzdata: stored.compiled.table.tzdata ?? '',
    };
  }

  /**
   * Send the core a fresh zone table when the stored one runs out within two
   * years or this runtime's zone database is newer than the one that built
   * it (`force`: in any case). Returns whether it did. Interval templates
   * have no table: false. Workers call this for their queues' templates.
   */
  async refreshZoneTable(options: { force?: boolean } = {}): Promise<boolean> {
    if (this.cron === null) return false;
    const now = this.#client.now();
    if (!options.force && !storedTableIsShort(this.#zone?.zoneUntil, this.#zone?.zoneTzdata, now)) return false;
    const pairs: CoreArg[] = [];
    const zone = this.#cronPair(pairs, this.cron, this.timezone ?? DEFAULT_TIME_ZONE);
    await this.call('recur.update', this.jid, ...pairs);
    this.#zone = zone;
    return true;
  }

  /**
   * The schedule in words, e.g. `every 5 minutes` or `at 02:30 every day
   * (Europe/Berlin)`.
   */
  describe(): string {
    if (this.cron === null) return intervalWords(this.interval);
    const schedule = this.#parsed();
    const zone = this.timezone ?? DEFAULT_TIME_ZONE;
    return schedule === null ? `cron "${this.cron}" (${zone})` : describeCron(schedule, zone);
  }

  /**
   * The cron expression parsed, or null when it does not parse here (a
   * template another client stored): listings then show it as written
   * rather than fail on one template.
   */
  #parsed(): CronSchedule | null {
    if (this.cron === null) return null;
    try {
      return parseCron(this.cron);
    } catch {
      return null;
    }
  }

  /**
   * The next `count` run times (UTC seconds, ascending; default 3): the
   * next occurrence the core holds, then those the schedule gives after it.
   * Empty when the template no longer exists.
   */
  async upcoming(count = 3): Promise<number[]> {
    const n = args.integer(count, 'count');
    const first = await this.next();
    // +inf: a cron template whose schedule has no run left.
    if (first === null || n === 0 || !Number.isFinite(first)) return [];
    if (this.cron === null) return Array.from({ length: n }, (_, i) => first + i * this.interval);
    const schedule = this.#parsed();
    if (schedule === null) return [first];
    try {
      return [first, ...nextRuns({ schedule, timeZone: this.timezone ?? DEFAULT_TIME_ZONE }, { after: first, count: n - 1 })];
    } catch {
      // A zone this runtime does not know: the core's next run is all there is to show.
      return [first];
    }
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
      ...(this.cron === null
        ? {}
        : {
            cron: {
              expression: this.cron,
              timezone: this.timezone ?? DEFAULT_TIME_ZONE,
              zoneUntil: this.#zone?.zoneUntil ?? 0,
              zoneTzdata: this.#zone?.zoneTzdata ?? '',
            },
          }),
    };
  }

  /** `<klass jid>`. */
  toString(): string {
    return `<${this.klass} ${this.jid}>`;
  }
}

/** An interval in words: `every minute`, `every 5 minutes`, `every 90 seconds`, `every 2 hours`, `every day`. */
export function intervalWords(seconds: number): string {
  const units: Array<[number, string]> = [[604_800, 'week'], [86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
    }
  }
  return `every ${seconds} seconds`;
}
