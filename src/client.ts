/**
 * The client: one Redis connection (or Redis Cluster), the namespace it acts
 * in, the one script gateway every core call goes through, the worker name
 * it acts as, and the accessors (`queue()`, `jobs`, `queues`, `workers`,
 * `config`, `events`).
 */
import { hostname } from 'node:os';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import * as args from './args.js';
import { checkDurability, type Durability, type DurabilityOptions } from './connection/durability.js';
import { directReplies, openCluster, openRedis } from './connection/redis.js';
import { DEFAULT_URL } from './connection/target.js';
import { aboutJob, InvalidArgumentError } from './errors.js';
import { Config } from './config.js';
import { Events } from './events.js';
import { KeySpace } from './keys.js';
import { RedisClock } from './redis-clock.js';
import { isCluster, ScriptGateway, type RedisConnection, type Clock, type CoreArg, type CoreCall, type CoreMode, type CoreOutcome, type CoreReply } from './gateway.js';
import { Jobs } from './jobs.js';
import { Queue } from './queue.js';
import * as wire from './wire.js';
import { Queues, Workers } from './workers.js';
import { Throttles } from './throttles.js';

/** Where {@link client} connects when given no URL and no host. */
export { DEFAULT_URL };

/**
 * Options of {@link client}: every ioredis option (host, port, password, db,
 * tls, …; `sentinels` and `name` for a Sentinel deployment) plus the ones
 * below.
 */
export interface ClientOptions extends RedisOptions {
  /**
   * A Redis URL: `redis://` (`rediss://` for TLS, with password and db), or
   * `redis+sentinel://host:26379,host2:26379/<master name>[/db]`, or
   * `redis+cluster://host:7000,host:7001/` (see connection/url.ts).
   */
  url?: string;
  /**
   * A Redis Cluster's nodes (`['127.0.0.1:7000', { host, port }]`; a few are
   * enough, the rest is discovered). Needs a {@link ClientOptions.namespace}.
   */
  cluster?: ClusterNode[];
  /** ioredis Cluster options (`redisOptions` for each node's connection, retries…), with `cluster` or a cluster URL. */
  clusterOptions?: ClusterOptions;
  /**
   * The namespace to act in: a qless universe of its own whose keys are
   * `ql:{<namespace>}:…`, all in one Redis Cluster hash slot. Default: the
   * default namespace, qless-core's `ql:` keys, shared with every qless
   * client (named namespaces are known only to qless-ts). A Redis Cluster
   * needs a named namespace.
   */
  namespace?: string;
  /** The name this client pops, heartbeats and completes jobs as. Default `<hostname>-<pid>`. */
  workerName?: string;
  /**
   * Seconds since the epoch, sent as `now` with every call. Default: this
   * machine's clock corrected to Redis's `TIME` (measured at each connection
   * and every minute), so that qless-ts processes on machines whose clocks
   * disagree still agree on when a lock expires. `systemClock` is the
   * machine's clock alone.
   */
  clock?: Clock;
  /**
   * Use this ioredis connection instead of opening one. The client does not
   * close it; the events subscriber is a `duplicate()` of it.
   */
  connection?: Redis | Cluster;
  /**
   * How core calls go out. `auto` (default): as FCALL of the core loaded as
   * a Redis 7 function library, falling back to EVALSHA of `qless.lua` when
   * the server cannot load functions. `function`: FCALL only. `script`:
   * EVALSHA only, exactly as other qless-core clients call it.
   */
  core?: CoreMode;
  /**
   * Opt-in durability: after put, requeue, complete, fail and retry (alone
   * or in batches), wait until `replicas` replicas have the write, at most
   * `timeoutMs` (default 1000). Fewer in time: the call raises a
   * `DurabilityError` (the write stays applied on the primary).
   */
  durability?: DurabilityOptions;
}

/** The default worker name: `<hostname>-<pid>`, unique per process. */
export function defaultWorkerName(): string {
  return `${hostname()}-${process.pid}`;
}

function defaultUrl(): string {
  return process.env['QLESS_REDIS_URL'] || DEFAULT_URL;
}

/**
 * A connection to qless, acting as one worker name. Create it with
 * {@link client}; close it with {@link Client.close}.
 */
export class Client {
  /** The Redis connection (for reading raw keys; core calls go through {@link Client.call}). */
  readonly redis: RedisConnection;
  /** The namespace this client acts in, and its key and channel names. */
  readonly keys: KeySpace;
  /** Every core call goes through this gateway. */
  readonly gateway: ScriptGateway;
  /** Jobs across queues: get, tagged, failed, tracked, complete. */
  readonly jobs: Jobs;
  /** All queues' counts. */
  readonly queues: Queues;
  /** Known workers and their jobs. */
  readonly workers: Workers;
  /** The core's configuration. */
  readonly config: Config;
  /** Named concurrency limits shared across queues. */
  readonly throttles: Throttles;
  /** The checked durability settings, or undefined when writes are not waited for. */
  readonly durability: Durability | undefined;
  #workerName: string;
  #events: Events | undefined;
  readonly #owned: boolean;
  readonly #queues = new Map<string, Queue>();
  /** The default clock (Redis's time), when no `clock` was given. */
  readonly #redisClock: RedisClock | undefined;

  /** @internal Use {@link client}. */
  constructor(options: ClientOptions) {
    const { url, workerName, clock, connection, core, durability, cluster, clusterOptions, namespace, ...redisOptions } = options;
    this.#workerName = args.name(workerName ?? defaultWorkerName(), 'workerName');
    this.durability = checkDurability(durability);
    this.keys = new KeySpace(namespace);
    if (connection) {
      this.redis = connection;
      this.#owned = false;
    } else {
      this.redis = cluster !== undefined ? openCluster(cluster, clusterOptions, redisOptions) : openRedis(url, redisOptions, 'the client URL', clusterOptions);
      this.#owned = true;
      // Errors reach the caller of each command; without a listener ioredis
      // would also print every failed reconnection attempt.
      this.redis.on('error', () => undefined);
      directReplies(this.redis);
    }
    if (isCluster(this.redis) && this.keys.namespace === undefined) {
      // Checked after opening so that a given connection is judged too; an
      // owned one is closed again (nothing has been sent on it).
      if (this.#owned) this.redis.disconnect();
      throw new InvalidArgumentError(
        "a Redis Cluster needs a namespace (e.g. { namespace: 'orders' }): the default namespace's ql: keys spread over the cluster's slots, " +
          'where the core cannot reach them together',
      );
    }
    if (clock === undefined) this.#redisClock = new RedisClock(this.redis);
    this.gateway = new ScriptGateway(this.redis, clock ?? this.#redisClock!.now, core ?? 'auto', { durability: this.durability, keys: this.keys });
    if (this.#redisClock !== undefined) {
      const gateway = this.gateway;
      gateway.clockPending = this.#redisClock.first.then(() => {
        gateway.clockPending = undefined;
      });
    }
    this.jobs = new Jobs(this);
    this.queues = new Queues(this);
    this.workers = new Workers(this);
    this.config = new Config(this);
    this.throttles = new Throttles(this);
  }

  /** The namespace's name, or `undefined` for the default namespace. */
  get namespace(): string | undefined {
    return this.keys.namespace;
  }

  /** The name this client pops, heartbeats and completes jobs as. */
  get workerName(): string {
    return this.#workerName;
  }

  set workerName(name: string) {
    this.#workerName = args.name(name, 'workerName');
  }

  /** The clock `now` is taken from (settable, e.g. in tests). */
  get clock(): Clock {
    return this.gateway.clock;
  }

  set clock(clock: Clock) {
    this.gateway.clock = clock;
    // A clock of the caller's own: nothing to wait for.
    this.gateway.clockPending = undefined;
  }

  /** The clock's current time in seconds since the epoch. */
  now(): number {
    return this.gateway.clock();
  }

  /** Pub/sub events, on a connection of their own opened by `listen()`. */
  get events(): Events {
    this.#events ??= new Events(this);
    return this.#events;
  }

  /**
   * Call a core command directly: `FCALL qless_<sha> 0 <command> <now> <args…>`
   * (or `EVALSHA <sha> 0 …`, see {@link ClientOptions.core}). The raw reply
   * is returned; errors are typed (see errors).
   */
  call(command: string, ...args: CoreArg[]): Promise<CoreReply> {
    return this.gateway.call(command, ...args);
  }

  /** @internal {@link Client.call} with the reply read by `read` (see ScriptGateway.callAndRead). */
  callAndRead<T>(command: string, args: readonly CoreArg[], read: (reply: CoreReply) => T): Promise<T> {
    return this.gateway.callAndRead(command, args, read);
  }

  /** Several core calls in one round trip, all at the same `now`. */
  callMany(calls: readonly CoreCall[], now?: number): Promise<CoreOutcome[]> {
    return this.gateway.callMany(calls, now);
  }

  /** @internal {@link Client.callMany} with the outcomes read by `read` (see ScriptGateway.callManyAndRead). */
  callManyAndRead<T>(calls: readonly CoreCall[], read: (outcomes: CoreOutcome[]) => T): Promise<T> {
    return this.gateway.callManyAndRead(calls, read);
  }

  /** A handle on a queue; no I/O. */
  queue(name: string): Queue {
    if (typeof name !== 'string') throw new InvalidArgumentError('queue name must be a string');
    let queue = this.#queues.get(name);
    if (!queue) this.#queues.set(name, (queue = new Queue(this, name)));
    return queue;
  }

  /** Track a job: its events are published. True if it was not tracked before. */
  async track(jid: string): Promise<boolean> {
    const name = args.name(jid, 'jid');
    try {
      return String(await this.call('track', 'track', name)) === '1';
    } catch (error) {
      throw aboutJob(error, name);
    }
  }

  /** Stop tracking a job. True if it was tracked. */
  async untrack(jid: string): Promise<boolean> {
    const name = args.name(jid, 'jid');
    try {
      return String(await this.call('track', 'untrack', name)) === '1';
    } catch (error) {
      throw aboutJob(error, name);
    }
  }

  /** The most used tags (those on at least two jobs), most used first. */
  async tags(offset = 0, count = 100): Promise<string[]> {
    const reply = await this.call('tag', 'top', args.integer(offset, 'offset'), args.integer(count, 'count'));
    return wire.stringList('tag', wire.json('tag', reply));
  }

  /**
   * Put up to `count` failed jobs of `group` back into `queue`, oldest
   * failure first. Returns how many were moved.
   */
  async unfail(group: string, queue: string, count = 500): Promise<number> {
    const reply = await this.call('unfail', args.name(queue, 'queue'), args.name(group, 'group'), args.integer(count, 'count', 1));
    return wire.integer('unfail', reply);
  }

  /** Close the events subscriber and the connection (unless it was given). */
  async close(): Promise<void> {
    this.#redisClock?.close();
    await this.#events?.close();
    if (!this.#owned) return;
    if (this.redis.status === 'end') return;
    try {
      if (this.redis.status === 'ready') await this.redis.quit();
      else this.redis.disconnect();
    } catch {
      this.redis.disconnect();
    }
  }
}

/**
 * Connect to qless. With no argument: `$QLESS_REDIS_URL`, else
 * `redis://127.0.0.1:6379`. Accepts a URL (`redis://:secret@host:6380/2`,
 * `rediss://…` for TLS, `redis+sentinel://host:26379/mymaster`), ioredis
 * options (`{ host, port, … }`, `{ sentinels, name }`), or both. A URL that
 * cannot be used is refused with an `InvalidArgumentError` before anything
 * connects.
 */
export function client(): Client;
export function client(url: string, options?: ClientOptions): Client;
export function client(options: ClientOptions): Client;
export function client(a?: string | ClientOptions, b?: ClientOptions): Client {
  if (typeof a === 'string') return new Client({ ...b, url: a });
  const options = a ?? {};
  const direct = options.url !== undefined || options.host !== undefined || options.port !== undefined || options.path !== undefined ||
    options.connection !== undefined || options.sentinels !== undefined || options.cluster !== undefined;
  // ioredis would default the host to localhost; say 127.0.0.1 (Sentinel options need no host).
  if (direct) return new Client(options.sentinels !== undefined || options.cluster !== undefined ? options : { host: '127.0.0.1', ...options });
  return new Client({ ...options, url: defaultUrl() });
}
