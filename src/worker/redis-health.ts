/**
 * Redis going away and coming back, logged once each way per process. The
 * connection itself reconnects (ioredis) and, because the worker's clients
 * are created with `maxRetriesPerRequest: null`, commands issued meanwhile
 * wait for it instead of failing: a pop simply returns later, a completion
 * is sent once Redis is back.
 */
import { evictionWarnings } from '../connection/eviction.js';
import type { RedisConnection } from '../gateway.js';
import { errorFields, type Logger } from './logger.js';

/** The ioredis options every worker connection uses: wait for Redis, never give up. */
export const WAITING_REDIS_OPTIONS = {
  maxRetriesPerRequest: null,
  // Reconnect quickly at first, then every 2 s at most.
  retryStrategy: (attempt: number): number => Math.min(100 * attempt, 2000),
} as const;

export interface RedisHealth {
  /** True while the connection is usable. */
  readonly up: boolean;
  stop(): void;
}

/** Watch one connection and log "Redis unavailable" / "Redis reconnected" once per outage. */
export function watchRedis(redis: RedisConnection, log: Logger, url: string): RedisHealth {
  let up = redis.status === 'ready';
  let everUp = up;
  let downSince = 0;
  let lastError = '';
  let warnedAtStart = false;

  const onError = (error: Error): void => {
    lastError = error.message;
    // Never connected yet: say once that we are waiting (a wrong --host
    // should not look like a silent hang).
    if (!everUp && !warnedAtStart) {
      warnedAtStart = true;
      log.warn({ url, error: lastError }, 'Redis unavailable; waiting for it');
    }
  };
  const onDown = (): void => {
    if (!up) return;
    up = false;
    downSince = Date.now();
    log.warn({ url, error: lastError || undefined }, 'Redis unavailable; waiting for it to come back');
  };
  const onReady = (): void => {
    if (up) return;
    up = true;
    if (everUp) log.info({ url, downMs: Date.now() - downSince }, 'Redis reconnected');
    else if (warnedAtStart) log.info({ url }, 'Redis reconnected');
    everUp = true;
  };
  redis.on('error', onError);
  redis.on('close', onDown);
  redis.on('end', onDown);
  redis.on('ready', onReady);
  return {
    get up() {
      return up;
    },
    stop() {
      redis.off('error', onError);
      redis.off('close', onDown);
      redis.off('end', onDown);
      redis.off('ready', onReady);
    },
  };
}

/**
 * Warn when Redis may delete keys to make room (its maxmemory-policy is not
 * noeviction, see connection/eviction.ts): read at start and again each
 * time the connection comes back (a restarted Redis may have another
 * configuration), and logged when what it says changes. Returns a stop
 * function.
 */
export function watchEviction(redis: RedisConnection, log: Logger): () => void {
  let said = '';
  const check = (): void => {
    evictionWarnings(redis).then(
      (warnings) => {
        const now = JSON.stringify(warnings);
        if (now === said) return;
        said = now;
        for (const { policy, nodes, warning } of warnings) log.warn({ policy, nodes }, warning);
      },
      // INFO refused (an ACL without it) or Redis gone again: nothing to say.
      (error: unknown) => log.debug({ ...errorFields(error) }, 'could not read Redis\'s maxmemory-policy'),
    );
  };
  redis.on('ready', check);
  if (redis.status === 'ready') check();
  return () => {
    redis.off('ready', check);
  };
}
