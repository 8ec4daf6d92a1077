/**
 * Cluster redirections for the one pipeline ioredis does not follow by
 * itself: script calls followed by `WAIT` (the durability setting). ioredis
 * resends a pipeline after MOVED, ASK, TRYAGAIN or CLUSTERDOWN only when
 * every command that did not fail is read-only, so that nothing runs twice;
 * `WAIT` is not read-only, so during a failover or a slot move a durable
 * write failed with Redis's raw "MOVED 9749 127.0.0.1:7001" or "CLUSTERDOWN
 * The cluster is down" instead of reaching the slot's new primary.
 *
 * Resending is safe when every script call of the trip was redirected: the
 * node ran none of them (only the `WAIT`, which writes nothing). This module
 * tells when that is so, and waits the way ioredis itself would before the
 * trip goes out again.
 */
import type { Cluster } from 'ioredis';

/** The reply words that mean "not run here": the slot is elsewhere, moving, or the cluster is down. */
const REDIRECTIONS = new Set(['MOVED', 'ASK', 'TRYAGAIN', 'CLUSTERDOWN']);

/** ioredis's defaults for the cluster options read here. */
const DEFAULT_MAX_REDIRECTIONS = 16;
const DEFAULT_RETRY_DELAY_MS = 100;

/**
 * The redirection word (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) when every one of
 * the first `count` results failed with one, else undefined (something ran,
 * or failed for another reason: the results stand).
 */
export function redirectionOf(results: ReadonlyArray<readonly [Error | null, unknown]>, count: number): string | undefined {
  let word: string | undefined;
  for (let i = 0; i < count; i += 1) {
    const error = results[i]?.[0];
    if (!(error instanceof Error)) return undefined;
    const first = error.message.split(' ', 1)[0]!;
    if (!REDIRECTIONS.has(first)) return undefined;
    word ??= first;
  }
  return word;
}

/** How many times a redirected trip goes out in all (the cluster's `maxRedirections`). */
export function maxRedirections(cluster: Cluster): number {
  const value = cluster.options.maxRedirections;
  return typeof value === 'number' && value > 0 ? value : DEFAULT_MAX_REDIRECTIONS;
}

/**
 * Wait before a redirected trip goes out again, as ioredis waits for a
 * command of its own: a moved slot needs the new slot map at once; a cluster
 * that is down, or a slot being migrated, needs a moment first
 * (`retryDelayOnClusterDown`, `retryDelayOnTryAgain`), then the map too.
 */
export async function awaitRedirection(cluster: Cluster, word: string): Promise<void> {
  if (word !== 'MOVED') {
    const option = word === 'CLUSTERDOWN' ? cluster.options.retryDelayOnClusterDown : cluster.options.retryDelayOnTryAgain;
    const delay = typeof option === 'number' && option > 0 ? option : DEFAULT_RETRY_DELAY_MS;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  // A failed refresh (no node answers yet) is no reason to stop: the next
  // trip fails again and is counted.
  await new Promise<void>((resolve) => {
    cluster.refreshSlotsCache(() => resolve());
  });
}
