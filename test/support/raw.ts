/**
 * Raw-key helpers for core tests: a full snapshot of the database (to show a
 * rejected call wrote nothing), jobs written by hand exactly as a qless-core
 * put leaves them, and a probe for commands that another module provides.
 */
import type { Redis } from 'ioredis';
import { testJobLayout } from './redis.js';

export type RawValue =
  | { type: 'string'; value: string }
  | { type: 'hash'; value: Record<string, string> }
  | { type: 'list'; value: string[] }
  | { type: 'set'; value: string[] }
  | { type: 'zset'; value: Array<[string, string]> };

/**
 * Every key with its type and content (sets sorted, zsets with scores). In
 * the core-compact project the `job-layout` option the test support sets
 * (test/support/redis.ts) is left out, and ql:config with it when nothing
 * else is set: the snapshot shows what the test's own calls wrote.
 */
export async function snapshot(redis: Redis): Promise<Record<string, RawValue>> {
  const keys = (await redis.keys('*')).sort();
  const out: Record<string, RawValue> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') out[key] = { type, value: (await redis.get(key)) ?? '' };
    else if (type === 'hash' && key === 'ql:config' && testJobLayout() !== undefined) {
      const value = await redis.hgetall(key);
      if (value['job-layout'] === testJobLayout()) delete value['job-layout'];
      if (Object.keys(value).length > 0) out[key] = { type, value };
    } else if (type === 'hash') out[key] = { type, value: await redis.hgetall(key) };
    else if (type === 'list') out[key] = { type, value: await redis.lrange(key, 0, -1) };
    else if (type === 'set') out[key] = { type, value: (await redis.smembers(key)).sort() };
    else if (type === 'zset') out[key] = { type, value: await zsetWithScores(redis, key) };
    else throw new Error(`unexpected type ${type} of ${key}`);
  }
  return out;
}

/** `KEYS *`, less ql:config when it holds only the job-layout option the test support set. */
export async function dataKeys(redis: Redis): Promise<string[]> {
  const shown = new Set(Object.keys(await snapshot(redis)));
  return (await redis.keys('*')).filter((key) => shown.has(key));
}

/**
 * Empty the test database in the middle of a test, as useRedis does before
 * each (the job-layout option of the core-compact project included).
 */
export async function flushTestDb(redis: Redis): Promise<void> {
  await redis.flushdb();
  const layout = testJobLayout();
  if (layout !== undefined) await redis.hset('ql:config', 'job-layout', layout);
}

/**
 * Append a history entry text by hand where the job keeps its history: the
 * `-history` list, or the job's hash in the compact layout (`hn`, h1..hN;
 * see history_append in lua/base.lua).
 */
export async function appendRawHistory(redis: Redis, jid: string, entry: string): Promise<void> {
  const [hn, time, queue] = await redis.hmget(`ql:j:${jid}`, 'hn', 'time', 'queue');
  if (hn === null) {
    await redis.rpush(`ql:j:${jid}-history`, entry);
    return;
  }
  if (hn === 'p') {
    // A job only put has its put entry implicit: written out first.
    const put = JSON.stringify([Math.floor(Number(time)), 'put', { q: queue }]);
    await redis.hset(`ql:j:${jid}`, 'h1', put, 'h2', entry, 'hn', '2');
    return;
  }
  const n = Number(hn) + 1;
  await redis.hset(`ql:j:${jid}`, `h${n}`, entry, 'hn', String(n));
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

