/**
 * Connecting to Redis, in one place for the client and the three binaries:
 * the URL forms (url.ts), the command-line rule for `--host`/`--port`/
 * `$QLESS_REDIS_URL` (target.ts), the ioredis connection with its failover
 * behaviour (redis.ts), and opt-in durability (durability.ts).
 *
 * url.ts, target.ts and durability.ts load no Redis client, so a command
 * line can check its options without the cost of loading ioredis; import
 * them directly where that matters.
 */
export { parseConnectionUrl, redactUrl, looksLikeUrl, SUPPORTED_SCHEMES, SENTINEL_PORT, REDIS_PORT, type ConnectionTarget, type StandaloneTarget, type SentinelTarget, type ClusterTarget, type HostPort } from './url.js';
export { resolveRedisUrl, DEFAULT_URL, type ConnectionFlags } from './target.js';
export { openRedis, openCluster, clusterNodeOptions, withFailoverDefaults, sentinelOptions, isReplicaRefusal } from './redis.js';
export { checkDurability, durabilityFromFlags, durableJid, DURABLE_COMMANDS, DEFAULT_WAIT_TIMEOUT_MS, type Durability, type DurabilityOptions } from './durability.js';
