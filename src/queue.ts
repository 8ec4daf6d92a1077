/**
 * A queue handle: a name bound to a client. Creating one does no I/O; any
 * non-empty name is fine and the queue appears in listings once a job is
 * put into it. (The core would take `''` as a queue too, but no command
 * could then tell it from "no queue", so the client refuses it.)
 */
import { randomUUID } from 'node:crypto';
import * as args from './args.js';
import { lockSeconds } from './config.js';
import { InvalidArgumentError, QlessError } from './errors.js';
import { encodeObject, encodeStrings } from './json.js';
import { completeJobsThen, Job, jobFromValue, type CompleteOutcome } from './job.js';
import { klassOf, type KlassRef } from './klass.js';
import { storedCron } from './cron/stored.js';
import { RecurringJob } from './recurring.js';
import { otelNow, producerSpan, tracingIdle } from './tracing.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { CoreArg, CoreCall, CoreReply } from './gateway.js';
import type { QueueCounts, QueueStats } from './types.js';

/** Options of {@link Queue.put}. */
export interface PutOptions {
  /**
   * Larger numbers are popped sooner (priority 10 before 0 before -10);
   * equal priorities pop first-in first-out. Default 0.
   */
  priority?: number;
  /** Tags to find the job by ({@link Jobs.tagged}). Default none. */
  tags?: readonly string[];
  /** Seconds before the job can be popped. Default 0. */
  delay?: number;
  /** How many lost locks or {@link Job.retry} calls it survives before failing. Default 5. */
  retries?: number;
  /** Jids that must complete before this job can run. */
  depends?: readonly string[];
  /** The job's id; default a random 32-hex-digit id. Putting an existing jid replaces that job. */
  jid?: string;
  /**
   * Named throttles ({@link Client.throttles}) the job needs a slot of to
   * run, besides its queue's own. Omitted on a re-put, the job keeps the
   * ones it had; `[]` drops them.
   */
  throttles?: readonly string[];
}

/** Options of {@link Queue.recur}: an interval or a cron schedule, and what each child gets. */
export type RecurOptions = IntervalRecurOptions | CronRecurOptions;

/** A child every `interval` seconds. */
export interface IntervalRecurOptions extends RecurChildOptions {
  /** Seconds between occurrences (required, > 0). */
  interval: number;
  /** Seconds from now until the first occurrence. Default 0 (now). */
  offset?: number;
  cron?: never;
  timezone?: never;
}

/** A child at each time a cron expression names, in a time zone. */
export interface CronRecurOptions extends RecurChildOptions {
  /**
   * Five fields (minute hour day-of-month month day-of-week), or six with
   * seconds in front; `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`;
   * ranges, lists, steps, and names of months and days. The first child is
   * the first match after now.
   */
  cron: string;
  /** An IANA zone name the times are read in, e.g. `Europe/Berlin`. Default `UTC`. */
  timezone?: string;
  interval?: never;
  offset?: never;
}

/** What each child of a recurring job gets, and the template's id. */
export interface RecurChildOptions {
  /** Priority of each child. Default 0. */
  priority?: number;
  /** Tags of each child. */
  tags?: readonly string[];
  /** Retries of each child. Default 5. */
  retries?: number;
  /** After a pause, spawn at most this many overdue occurrences at once; 0 (default) spawns all. */
  backlog?: number;
  /** The template's id; default a random one. Re-using one replaces that template. */
  jid?: string;
  /** Named throttles each child needs (see {@link PutOptions.throttles}). */
  throttles?: readonly string[];
}

/** Paginated jid listings of one queue. */
export interface QueueJobs {
  /** Jobs holding a live lock, soonest expiry first. */
  running(offset?: number, count?: number): Promise<string[]>;
  /** Jobs whose lock expired without a pop noticing yet. */
  stalled(offset?: number, count?: number): Promise<string[]>;
  /** Delayed jobs, soonest first (ready ones are moved to waiting first). */
  scheduled(offset?: number, count?: number): Promise<string[]>;
  /** Jobs waiting for other jobs, oldest first. */
  depends(offset?: number, count?: number): Promise<string[]>;
  /** Jobs parked until a throttle they need has room, first parked first. */
  throttled(offset?: number, count?: number): Promise<string[]>;
  /** Recurring templates, next occurrence first. */
  recurring(offset?: number, count?: number): Promise<string[]>;
  /**
   * Jobs ready to pop, in pop order (timed-out jobs first, then by priority,
   * first-in first-out). Read straight from the queue's work set: unlike
   * {@link Queue.peek} it pages, and it neither promotes scheduled jobs nor
   * spawns recurring ones, so looking never changes the queue.
   */
  waiting(offset?: number, count?: number): Promise<string[]>;
}

/** A new jid: a UUID4 as 32 lowercase hex digits, as every qless client makes them. */
export function newJid(): string {
  // Cut out the four dashes of xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx (cheaper than a regex replace).
  const uuid = randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18) + uuid.slice(19, 23) + uuid.slice(24);
}

function textOfPut(reply: CoreReply): string {
  return wire.text('put', reply);
}

function page(offset: number, count: number): [number, number] {
  return [args.integer(offset, 'offset'), args.integer(count, 'count')];
}

/** A queue by name: put, pop, peek, recur, and what it holds. No I/O until a method is called. */
export class Queue {
  readonly name: string;
  /** Paginated listings: `queue.jobs.running(0, 25)` and so on. */
  readonly jobs: QueueJobs;
  readonly #client: Client;

  /** @internal Use {@link Client.queue}. */
  constructor(client: Client, name: string) {
    this.#client = client;
    this.name = args.name(name, 'queue name');
    const listing = (state: string) => async (offset = 0, count = 25) =>
      wire.strings('jobs', await client.call('jobs', state, name, ...page(offset, count)));
    this.jobs = {
      running: listing('running'),
      stalled: listing('stalled'),
      scheduled: listing('scheduled'),
      depends: listing('depends'),
      throttled: listing('throttled'),
      recurring: listing('recurring'),
      waiting: async (offset = 0, count = 25) => {
        const [start, n] = page(offset, count);
        if (n === 0) return [];
        // The core has no `jobs waiting`; pop takes the highest score first.
        return client.redis.zrevrange(client.keys.queueWork(name), start, start + n - 1);
      },
    };
  }

  /** The client this handle belongs to. */
  get client(): Client {
    return this.#client;
  }

  private putArgs(klass: KlassRef, data: object, options: PutOptions): CoreArg[] {
    const fresh = options.jid === undefined;
    const jid = fresh ? newJid() : args.jid(options.jid);
    const klassName = klassOf(klass);
    const dataText = encodeObject(data, 'data');
    const delay = args.finite(options.delay ?? 0, 'delay');
    const priority = args.finite(options.priority ?? 0, 'priority');
    const tags = options.tags === undefined ? '[]' : encodeStrings(options.tags, 'tags');
    const retries = args.integer(options.retries ?? 5, 'retries');
    const depends = options.depends === undefined ? '[]' : encodeStrings(options.depends, 'depends');
    const argv: CoreArg[] = [this.#client.workerName, this.name, jid, klassName, dataText, delay];
    // For a job that cannot exist yet (a new random jid) the core's own
    // defaults are these values, so they need not be sent (nor parsed);
    // an existing jid gets every option, so that a re-put resets them.
    if (!fresh || priority !== 0) argv.push('priority', priority);
    if (!fresh || tags !== '[]') argv.push('tags', tags);
    if (!fresh || retries !== 5) argv.push('retries', retries);
    if (!fresh || depends !== '[]') argv.push('depends', depends);
    if (options.throttles !== undefined) argv.push('throttles', encodeStrings(options.throttles, 'throttles'));
    return argv;
  }

  /**
   * Put a job into the queue and return its jid. `klass` names the code that
   * runs it: a string such as `'gnomes.GnomesJob'`, or a class carrying its
   * klass (`static klass = 'gnomes.GnomesJob'`). `data` must be a plain JSON
   * object; anything else is refused before Redis is touched.
   */
  put(klass: KlassRef, data: object = {}, options: PutOptions = {}): Promise<string> {
    let argv: CoreArg[];
    try {
      argv = this.putArgs(klass, data, options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // Without @opentelemetry/api (known after the first put), or with it
    // but nothing to trace, a put is just the call.
    const otel = otelNow();
    if (otel === null || (otel !== undefined && tracingIdle(otel))) return this.#sendPut(argv, undefined);
    return producerSpan(this.name, String(argv[2]), String(argv[3]), (trace) => this.#sendPut(argv, trace));
  }

  #sendPut(argv: CoreArg[], trace: string | undefined): Promise<string> {
    if (trace !== undefined) argv.push('trace', trace);
    return this.#client.callAndRead('put', argv, textOfPut);
  }

  /**
   * Like {@link Queue.put}, but for a job that must already exist (its jid is
   * required): fails with JobNotFoundError instead of creating it.
   */
  async requeue(klass: KlassRef, data: object, options: PutOptions & { jid: string }): Promise<string> {
    if (options?.jid === undefined) throw new InvalidArgumentError('requeue needs the jid of an existing job');
    const argv = this.putArgs(klass, data, options);
    return wire.text('requeue', await this.#client.call('requeue', ...argv));
  }

  /**
   * Take the next job (highest priority first, first-in first-out among
   * equals) and hold its lock as this client's worker. With a count, take up
   * to that many.
   */
  pop(): Promise<Job | null>;
  pop(count: number): Promise<Job[]>;
  async pop(count?: number): Promise<Job | Job[] | null> {
    const n = count === undefined ? 1 : args.integer(count, 'count');
    // `pop.raw`: the core's pop with the stored fields as the reply, which
    // costs Redis far less than encoding job objects (see wire.jobRecordFromFields).
    const reply = await this.#client.call('pop.raw', this.name, this.#client.workerName, n);
    const jobs = this.#popped(reply);
    return count === undefined ? jobs[0] ?? null : jobs;
  }

  #popped(reply: CoreReply): Job[] {
    return wire.jobRecordsFromFields('pop', reply).map((record) => new Job(this.#client, record));
  }

  /**
   * Complete `done` (jobs this client holds, from any queue) and pop up to
   * `count` jobs from this queue, all in one round trip: the loop of a
   * worker that finishes jobs and wants the next ones. `count` defaults to
   * as many as were completed (at least 1). The completions are reported
   * per job, as by {@link Jobs.completeMany}; an error of the pop itself is
   * thrown (the completions have then still been applied).
   *
   * @example
   * let jobs = await queue.pop(50);
   * while (jobs.length > 0) {
   *   for (const job of jobs) await handle(job);
   *   ({ jobs } = await queue.completeAndPop(jobs));
   * }
   */
  completeAndPop(done: readonly Job[], count?: number): Promise<{ completed: CompleteOutcome[]; jobs: Job[] }> {
    let n: number;
    try {
      n = count === undefined ? Math.max(1, done.length) : args.integer(count, 'count');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const pop: CoreCall = { command: 'pop.raw', args: [this.name, this.#client.workerName, n] };
    return completeJobsThen(this.#client, done, [pop], ({ completed, after }) => {
      const popped = after[0]!;
      if (!popped.ok) throw popped.error;
      return { completed, jobs: this.#popped(popped.reply) };
    });
  }

  /** Look at the job(s) pop would return, without taking them. */
  peek(): Promise<Job | null>;
  peek(count: number): Promise<Job[]>;
  async peek(count?: number): Promise<Job | Job[] | null> {
    const n = count === undefined ? 1 : args.integer(count, 'count');
    const reply = await this.#client.call('peek', this.name, n);
    const jobs = wire.jsonList('peek', reply).map((value) => jobFromValue(this.#client, 'peek', value));
    return count === undefined ? jobs[0] ?? null : jobs;
  }

  /**
   * Recur a job: a child job `<jid>-<n>` is put into this queue every
   * `interval` seconds, starting `offset` seconds from now; or at each time
   * a `cron` expression names in `timezone`. The core makes the children
   * when a worker (or peek) asks the queue for work, so no scheduler process
   * runs and two workers never make the same child. Returns the template's
   * jid; read it back with {@link Jobs.get}.
   *
   * A bad expression (CronExpressionError) or zone (UnknownTimeZoneError)
   * is refused before anything is written.
   */
  async recur(klass: KlassRef, data: object, options: RecurOptions): Promise<string> {
    const jid = options?.jid === undefined ? newJid() : args.jid(options.jid);
    const klassName = klassOf(klass);
    const dataText = encodeObject(data, 'data');
    const argv: CoreArg[] = [this.name, jid, klassName, dataText, ...this.#schedule(options)];
    argv.push(
      'priority', args.finite(options.priority ?? 0, 'priority'),
      'tags', encodeStrings(options.tags, 'tags'),
      'retries', args.integer(options.retries ?? 5, 'retries'),
      'backlog', args.integer(options.backlog ?? 0, 'backlog'),
    );
    if (options.throttles !== undefined) argv.push('throttles', encodeStrings(options.throttles, 'throttles'));
    return wire.text('recur', await this.#client.call('recur', ...argv));
  }

  /** The schedule's arguments of `recur`: the spec, its two values, and for cron its own options. */
  #schedule(options: RecurOptions): CoreArg[] {
    // Read loosely: callers from plain JavaScript may give both, or neither.
    const given = (options ?? {}) as { interval?: unknown; offset?: unknown; cron?: unknown; timezone?: unknown };
    if (given.cron !== undefined) {
      if (given.interval !== undefined || given.offset !== undefined) {
        throw new InvalidArgumentError('give either cron (with timezone) or interval (with offset), not both');
      }
      const cron = storedCron(given.cron as string, given.timezone as string | undefined, this.#client.now());
      return [...cron.recurSpec, ...cron.recurOptions];
    }
    if (given.timezone !== undefined) throw new InvalidArgumentError('timezone applies to a cron schedule: give cron too');
    const interval = args.finite(given.interval, 'interval');
    if (interval <= 0) throw new InvalidArgumentError(`interval must be greater than 0, got ${interval}`);
    return ['interval', interval, args.finite(given.offset ?? 0, 'offset')];
  }

  /**
   * Send a fresh zone table for each of this queue's cron templates whose
   * stored one runs short (see {@link RecurringJob.refreshZoneTable}).
   * Returns the jids refreshed. Worker daemons call it for their queues at
   * start and twice a day, so a template's table never runs out while
   * workers run; an interval template is read and left alone.
   */
  async refreshZoneTables(): Promise<string[]> {
    const refreshed: string[] = [];
    const page = 100;
    for (let offset = 0; ; offset += page) {
      const jids = await this.jobs.recurring(offset, page);
      for (const jid of jids) {
        const reply = await this.#client.call('recur.get', jid);
        if (reply === null) continue;
        const template = new RecurringJob(this.#client, wire.recurringRecord('recur.get', wire.json('recur.get', reply)));
        if (await template.refreshZoneTable()) refreshed.push(jid);
      }
      if (jids.length < page) return refreshed;
    }
  }

  /** How many jobs the queue holds in each state. */
  async counts(): Promise<QueueCounts> {
    return wire.queueCounts('queues', wire.json('queues', await this.#client.call('queues', this.name)));
  }

  /** Statistics for the UTC day of `date` (a Date or seconds since the epoch; default today). */
  async stats(date?: Date | number): Promise<QueueStats> {
    const when = date === undefined ? this.#client.now() : date instanceof Date ? date.getTime() / 1000 : args.finite(date, 'date');
    return wire.queueStats('stats', await this.#client.call('stats', this.name, when));
  }

  /** Stop handing out jobs from this queue (puts and peeks still work). */
  async pause(): Promise<void> {
    await this.#client.call('pause', this.name);
  }

  /** Hand out jobs again. */
  async unpause(): Promise<void> {
    await this.#client.call('unpause', this.name);
  }

  /** Jobs waiting, scheduled or running (not those waiting on dependencies). */
  async length(): Promise<number> {
    return wire.integer('length', await this.#client.call('length', this.name));
  }

  /** Seconds a popped job's lock lasts: the queue's own setting, else the global one, else 60. */
  async getHeartbeat(): Promise<number> {
    const all = wire.configAll('config.get', await this.#client.call('config.get'));
    const seconds = lockSeconds(all, this.name);
    if (seconds === undefined) throw new QlessError(`the heartbeat configured for queue ${this.name} is not a number`);
    return seconds;
  }

  /** Set this queue's lock length in seconds (config option `<queue>-heartbeat`). */
  async setHeartbeat(seconds: number): Promise<void> {
    await this.#client.config.set(`${this.name}-heartbeat`, args.finite(seconds, 'heartbeat'));
  }

  /** Drop this queue's own lock length; the global `heartbeat` applies again. */
  async unsetHeartbeat(): Promise<void> {
    await this.#client.config.unset(`${this.name}-heartbeat`);
  }

  /**
   * Let at most `n` jobs of this queue run at once, across all workers (0:
   * no limit). This is the queue's own throttle `ql:q:<queue>` (see
   * {@link Client.throttles}), which reqless tools show too. The older
   * config option `<queue>-max-concurrency` still applies when set: both
   * are checked at each pop, so the lower of the two wins.
   */
  async setMaxConcurrency(n: number): Promise<void> {
    await this.#client.call('queue.throttle.set', this.name, args.integer(n, 'max concurrency'));
  }

  /** The limit {@link Queue.setMaxConcurrency} set, or `null` for none. */
  async maxConcurrency(): Promise<number | null> {
    const { maximum } = await this.#client.throttles.get(this.#client.keys.queueThrottle(this.name));
    return maximum > 0 ? maximum : null;
  }

  /**
   * Let at most `limit` jobs of this queue start in any `perSeconds`-second
   * window, across all workers (config options `<queue>-rate-limit` and
   * `<queue>-rate-window`). Jobs over the limit stay waiting; a worker
   * sleeps until the next start is allowed.
   */
  async setRateLimit(limit: number, perSeconds = 1): Promise<void> {
    const n = args.integer(limit, 'rate limit', 1);
    const per = args.finite(perSeconds, 'rate window');
    if (per <= 0) throw new InvalidArgumentError(`rate window must be more than 0 seconds, got ${per}`);
    // The window first: a limit never applies with another queue's old window.
    await this.#client.config.set(`${this.name}-rate-window`, per);
    await this.#client.config.set(`${this.name}-rate-limit`, n);
  }

  /** The rate limit, or `null` when none is set. */
  async rateLimit(): Promise<{ limit: number; per: number } | null> {
    const [limit, per] = await Promise.all([
      this.#client.config.get(`${this.name}-rate-limit`),
      this.#client.config.get(`${this.name}-rate-window`),
    ]);
    const n = typeof limit === 'number' ? Math.floor(limit) : 0;
    if (n <= 0) return null;
    return { limit: n, per: typeof per === 'number' && per > 0 ? per : 1 };
  }

  /** Remove the rate limit. */
  async clearRateLimit(): Promise<void> {
    await this.#client.config.unset(`${this.name}-rate-limit`);
    await this.#client.config.unset(`${this.name}-rate-window`);
  }

  /** Remove the queue from listings (its jobs stay; a later put brings it back). */
  async forget(): Promise<void> {
    await this.#client.call('queue.forget', this.name);
  }
}
