/**
 * Opening the ioredis connection for a URL or for ioredis options, with what
 * a Sentinel deployment needs to survive a failover:
 *
 * - the primary is found by asking the Sentinels (`role: 'master'`), again
 *   on every reconnection, so a reconnection after the primary died reaches
 *   the replica promoted in its place;
 * - a node that answers `READONLY` (or refuses `WAIT` as a replica) was
 *   demoted under us: reconnect, and send that command again to the primary
 *   the Sentinels name now. A replica refuses a write before running any of
 *   it, so sending it again cannot apply it twice;
 * - the Sentinel retry policy follows the connection's own `retryStrategy`,
 *   so a command line that must fail fast also fails fast when no Sentinel
 *   answers.
 *
 * Subscriber connections are `duplicate()`s and inherit all of this.
 *
 * A Redis Cluster is an ioredis `Cluster` (openCluster): it follows `MOVED`
 * and `ASK` redirections itself and asks for the slot map again when a node
 * fails or a redirection says the map changed, so a failover inside the
 * cluster reaches the promoted replica; commands wait in its offline queue
 * meanwhile.
 *
 * ioredis's `failoverDetector` is left off: in ioredis 5 a `+switch-master`
 * that arrives while the connection is between two attempts to reach the
 * primary (the usual case when the primary died) ends the connection for
 * good instead of reconnecting. Sentinel itself disconnects the clients of a
 * primary it demotes, and `READONLY` covers a node demoted by other means.
 */
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { InvalidArgumentError } from '../errors.js';
import { parseConnectionUrl, type ClusterTarget, type SentinelTarget } from './url.js';

/** An error reply that means the node we talk to is (now) a replica. */
export function isReplicaRefusal(error: Error): boolean {
  return /^READONLY\b/.test(error.message) || /^ERR WAIT cannot be used with replica instances/.test(error.message);
}

/** ioredis options for a parsed `redis+sentinel://` URL. */
export function sentinelOptions(target: SentinelTarget): RedisOptions {
  const options: RedisOptions = { sentinels: target.sentinels.map(({ host, port }) => ({ host, port })), name: target.name, db: target.db };
  if (target.username !== undefined) options.username = target.username;
  if (target.password !== undefined) options.password = target.password;
  if (target.sentinelUsername !== undefined) options.sentinelUsername = target.sentinelUsername;
  if (target.sentinelPassword !== undefined) options.sentinelPassword = target.sentinelPassword;
  if (target.tls) {
    options.tls = {};
    options.enableTLSForSentinelMode = true;
  }
  if (target.sentinelTls) options.sentinelTLS = {};
  return options;
}

/**
 * The options with the failover behaviour described above filled in where
 * the caller left it open. Options without `sentinels` come back unchanged.
 */
export function withFailoverDefaults(options: RedisOptions): RedisOptions {
  if (!options.sentinels || options.sentinels.length === 0) return options;
  const filled: RedisOptions = {
    role: 'master',
    reconnectOnError: (error) => (isReplicaRefusal(error) ? 2 : false),
    ...options,
  };
  if (options.sentinelRetryStrategy === undefined && options.retryStrategy !== undefined) {
    const retry = options.retryStrategy;
    filled.sentinelRetryStrategy = retry === null ? () => null : retry;
  }
  return filled;
}

/**
 * Open the connection a client uses: `url` of any supported form (checked,
 * see url.ts) with `options` on top, or `options` alone (which may name
 * `sentinels` and `name`, the ioredis way).
 */
export function openRedis(url: string | undefined, options: RedisOptions, source = 'the client URL', clusterOptions: ClusterOptions = {}): Redis | Cluster {
  if (url === undefined) return new Redis(withFailoverDefaults(options));
  const target = parseConnectionUrl(url, source);
  if (target.topology === 'standalone') return new Redis(url, options);
  if (target.topology === 'cluster') return openCluster(target.nodes, clusterOptions, { ...clusterNodeOptions(target), ...options });
  return new Redis(withFailoverDefaults({ ...sentinelOptions(target), ...options }));
}

/** The listener {@link directReplies} adds: the data itself goes to ioredis's own listener. */
function ignoreData(): void {}

function listenDirectly(stream: NodeJS.ReadableStream | undefined): void {
  if (stream !== undefined && !stream.listeners('data').includes(ignoreData)) stream.on('data', ignoreData);
}

/**
 * Have each reply handed to ioredis's parser as soon as its bytes are read,
 * rather than one tick later. ioredis reads its socket through a listener
 * added with `prependListener('data')`, which (unlike `on('data')`) does not
 * tell a Node stream that someone listens to `data`: every chunk read is then
 * buffered and handed over by a `nextTick` (`emitReadable`, `flow`, `read`),
 * about 7 µs of CPU per reply. A second, empty `on('data')` listener on each
 * socket (ioredis opens a new one on every reconnection, and announces it
 * with `connect`) lets Node emit the chunk straight from the read; ioredis's
 * listener still runs first and sees the same bytes in the same order.
 * For a cluster, every node's connection gets it.
 */
export function directReplies(redis: Redis | Cluster): void {
  if (redis instanceof Cluster) {
    redis.on('+node', (node: Redis) => directReplies(node));
    return;
  }
  // `stream` is unset until the first connection is made.
  const current = (): NodeJS.ReadableStream | undefined => redis.stream as NodeJS.ReadableStream | undefined;
  listenDirectly(current());
  redis.on('connect', () => listenDirectly(current()));
}

/** The per-node ioredis options of a parsed `redis+cluster://` URL. */
export function clusterNodeOptions(target: ClusterTarget): RedisOptions {
  const options: RedisOptions = {};
  if (target.username !== undefined) options.username = target.username;
  if (target.password !== undefined) options.password = target.password;
  if (target.tls) options.tls = {};
  return options;
}

/**
 * How long a cluster call waits out a failover before it fails: a call to a
 * slot whose primary died is tried again every 300 ms, up to 50 times (about
 * 15 s: the failed primary is noticed after cluster-node-timeout, and its
 * replica elected a moment later). ioredis's own defaults give up after
 * about 1.6 s, inside most failovers. The caller's clusterOptions win.
 */
const CLUSTER_FAILOVER_DEFAULTS: ClusterOptions = {
  retryDelayOnFailover: 300,
  retryDelayOnClusterDown: 300,
  retryDelayOnTryAgain: 300,
  maxRedirections: 50,
};

/**
 * Open a Redis Cluster connection from some of its nodes. `nodeOptions`
 * (password, TLS, timeouts…) apply to every node's connection, under
 * `clusterOptions.redisOptions`. A cluster has no databases: `db` is refused.
 */
export function openCluster(nodes: ClusterNode[], clusterOptions: ClusterOptions = {}, nodeOptions: RedisOptions = {}): Cluster {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new InvalidArgumentError("cluster must list at least one node, e.g. ['127.0.0.1:7000']");
  }
  const { db, ...perNode } = nodeOptions;
  if (db !== undefined && db !== 0) throw new InvalidArgumentError(`a Redis Cluster has only database 0, got db ${db}`);
  return new Cluster(nodes, {
    ...CLUSTER_FAILOVER_DEFAULTS,
    ...clusterOptions,
    redisOptions: { ...perNode, ...clusterOptions.redisOptions },
  });
}
