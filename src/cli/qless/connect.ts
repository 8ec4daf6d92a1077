/**
 * Opening a client that fails fast: a CLI should say "cannot reach Redis"
 * at once rather than retry forever the way a long-running worker does.
 */
import { client as openClient, type Client, type ClientOptions } from '../../client.js';
import { UnreachableError } from './exit.js';
import type { Target } from './target.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Batch commands issued in the same tick into one write (bulk loads). */
  pipelining?: boolean;
}

/** How long to wait for a connection before giving up (exit 3). */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Open a client on `target` and make sure Redis answers. No reconnection:
 * a refused or lost connection fails the command (exit 3) instead of hanging.
 */
export async function connect(target: Target, options: ConnectOptions = {}): Promise<Client> {
  const redisOptions: ClientOptions = {
    retryStrategy: () => null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: options.pipelining === true,
    durability: target.durability,
    namespace: target.namespace,
    // On a cluster too: give up at once rather than try the nodes again.
    clusterOptions: { clusterRetryStrategy: () => null },
  };
  const client = target.kind === 'url' ? openClient(target.url, redisOptions) : openClient({ ...redisOptions, host: target.host, port: target.port });
  // The client swallows connection errors (each command reports its own);
  // keep the last one, it says why better than "Connection is closed".
  let lastError: Error | undefined;
  client.redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await client.redis.ping();
  } catch (error) {
    await client.close().catch(() => undefined);
    let reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    // ioredis's words for a cluster none of whose nodes answered.
    if (/refresh slots cache/i.test(reason)) reason = 'none of the cluster nodes given answered';
    throw new UnreachableError(`cannot reach Redis at ${target.label}: ${reason}`);
  }
  return client;
}
