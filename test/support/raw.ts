/**
 * Raw-key helpers for core tests: a full snapshot of the database (to show a
 * rejected call wrote nothing), jobs written by hand exactly as a qless-core
 * put leaves them, and a probe for commands that another module provides.
 */
import type { Redis } from 'ioredis';

export type RawValue =
  | { type: 'string'; value: string }
  | { type: 'hash'; value: Record<string, string> }
  | { type: 'list'; value: string[] }
  | { type: 'set'; value: string[] }
  | { type: 'zset'; value: Array<[string, string]> };

/** Every key with its type and content (sets sorted, zsets with scores). */
export async function snapshot(redis: Redis): Promise<Record<string, RawValue>> {
  const keys = (await redis.keys('*')).sort();
  const out: Record<string, RawValue> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') out[key] = { type, value: (await redis.get(key)) ?? '' };
    else if (type === 'hash') out[key] = { type, value: await redis.hgetall(key) };
    else if (type === 'list') out[key] = { type, value: await redis.lrange(key, 0, -1) };
    else if (type === 'set') out[key] = { type, value: (await redis.smembers(key)).sort() };
    else if (type === 'zset') out[key] = { type, value: await zsetWithScores(redis, key) };
    else throw new Error(`unexpected type ${type} of ${key}`);
  }
  return out;
}

/** A zset as [member, score] pairs in ascending order. */
export async function zsetWithScores(redis: Redis, key: string): Promise<Array<[string, string]>> {
  const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}

export interface HandJob {
  queue?: string;
  klass?: string;
  data?: string;
  priority?: number;
  tags?: string[];
  state?: string;
  worker?: string;
  expires?: number;
  retries?: number;
  time?: number;
  /** Extra raw hash fields. */
  fields?: Record<string, string>;
}

/**
 * Write a waiting job the way a qless-core `put` at `time` leaves it: the
 * hash, the `[when,"put",{"q":..}]` history entry, the work-set entry (score
 * `priority - time/1e10`), the tag index and ql:queues.
 */
export async function writeJob(redis: Redis, jid: string, job: HandJob = {}): Promise<void> {
  const queue = job.queue ?? 'q';
  const time = job.time ?? 0;
  const priority = job.priority ?? 0;
  const retries = job.retries ?? 5;
  const tags = job.tags ?? [];
  await redis.hset(`ql:j:${jid}`, {
    jid,
    klass: job.klass ?? 'k',
    data: job.data ?? '{}',
    priority: String(priority),
    tags: tags.length === 0 ? '{}' : JSON.stringify(tags),
    state: job.state ?? 'waiting',
    worker: job.worker ?? '',
    expires: String(job.expires ?? 0),
    queue,
    retries: String(retries),
    remaining: String(retries),
    time: time.toFixed(20),
    ...job.fields,
  });
  await redis.rpush(`ql:j:${jid}-history`, JSON.stringify([Math.floor(time), 'put', { q: queue }]));
  if ((job.state ?? 'waiting') === 'waiting') {
    await redis.zadd(`ql:q:${queue}-work`, String(priority - time / 1e10), jid);
  }
  for (const tag of tags) {
    await redis.zadd(`ql:t:${tag}`, String(time), jid);
    await redis.zincrby('ql:tags', 1, tag);
  }
  await redis.zadd('ql:queues', 'NX', String(time), queue);
}

