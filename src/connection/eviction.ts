/**
 * Redis's `maxmemory-policy`, which decides what Redis does once it reaches
 * `maxmemory`. qless needs `noeviction`: Redis then refuses writes (a put
 * fails, a worker backs off) and nothing already stored is lost. Under any
 * other policy Redis deletes keys to make room, without telling anyone: a
 * job's hash, a queue's sorted set, a lock, a throttle. That is a job
 * dropped silently, the one thing a job queue must not do, so the worker
 * and the dashboard say so.
 *
 * The policy is read from `INFO memory` (`maxmemory_policy`), which managed
 * Redis services answer even where they disable CONFIG GET.
 */
import type { Redis } from 'ioredis';
import { isCluster, type RedisConnection } from '../gateway.js';

/** The policy of one server, `host:port` as ioredis names it. */
export interface EvictionPolicy {
  node: string;
  policy: string;
}

/** The node a connection talks to, for messages. */
function nodeName(redis: { options: { host?: string | undefined; port?: number | undefined } }): string {
  return `${redis.options.host ?? 'localhost'}:${redis.options.port ?? 6379}`;
}

/** `maxmemory_policy` from an INFO reply, or undefined when the server does not report it. */
export function policyFromInfo(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

/** Each primary's policy (one for a single server or Sentinel, one per primary for a Cluster). */
export async function evictionPolicies(redis: RedisConnection): Promise<EvictionPolicy[]> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  const found: EvictionPolicy[] = [];
  for (const node of nodes) {
    const policy = policyFromInfo(await node.info('memory'));
    if (policy !== undefined) found.push({ node: nodeName(node), policy });
  }
  return found;
}

/**
 * What a policy means for qless, as a sentence for a log line or a page;
 * undefined for `noeviction`, the one that loses nothing.
 */
export function evictionWarning(policy: string): string | undefined {
  if (policy === 'noeviction') return undefined;
  const what = policy.startsWith('volatile-')
    ? 'deletes keys that have a time to live (qless\'s throttles and rate-limit windows among them), so limits stop holding'
    : 'deletes any key, so jobs, queues and locks can vanish without a word';
  return `Redis's maxmemory-policy is ${policy}: once it reaches maxmemory it ${what}. qless needs noeviction (writes are refused instead and nothing stored is lost): set maxmemory-policy noeviction`;
}

/** The warnings for a connection's primaries, one per distinct policy, naming the nodes. */
export async function evictionWarnings(redis: RedisConnection): Promise<Array<{ policy: string; nodes: string[]; warning: string }>> {
  const byPolicy = new Map<string, string[]>();
  for (const { node, policy } of await evictionPolicies(redis)) byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), node]);
  const out: Array<{ policy: string; nodes: string[]; warning: string }> = [];
  for (const [policy, nodes] of byPolicy) {
    const warning = evictionWarning(policy);
    if (warning !== undefined) out.push({ policy, nodes, warning });
  }
  return out;
}
