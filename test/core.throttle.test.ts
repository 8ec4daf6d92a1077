/**
 * Throttles in the core: a port of reqless-core's throttle cases as
 * ../shared/spec/throttles.md lists them (commands, put, pop, the release
 * points, limit changes, recurring jobs, the pinned oddities), with the
 * reference defects R1–R9 replaced by what the spec asks instead, and the
 * qless-ts decision that a job naming no throttle keeps qless-core's job
 * object byte for byte.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, EventRecorder, type CoreHarness } from './support/core.js';
import { snapshot, zsetWithScores } from './support/raw.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Job = Record<string, unknown> & { jid: string; state: string; throttles?: string[]; history: Array<Record<string, unknown>> };
type Arg = string | number;

// Equal scores pop in descending jid order; each put is a little later than
// the one before, so that jobs put at the same `now` pop in the order put.
let sequence = 0;
beforeEach(() => { sequence = 0; });
const put = (now: number, jid: string, queue = 'queue', ...options: Arg[]) =>
  core.call(now + 0.001 * ++sequence, 'put', 'worker', queue, jid, 'klass', '{}', 0, ...options);
const putThrottled = (now: number, jid: string, throttles: string[], queue = 'queue', ...options: Arg[]) =>
  put(now, jid, queue, 'throttles', JSON.stringify(throttles), ...options);
const popJids = async (now: number, count: number, queue = 'queue', worker = 'worker'): Promise<string[]> => {
  const reply = await core.call(now, 'pop', queue, worker, count);
  return reply === '{}' ? [] : (JSON.parse(reply as string) as Job[]).map((j) => j.jid);
};
const peekJids = async (now: number, count: number, queue = 'queue'): Promise<string[]> => {
  const reply = await core.call(now, 'peek', queue, count);
  return reply === '{}' ? [] : (JSON.parse(reply as string) as Job[]).map((j) => j.jid);
};
const get = async (jid: string): Promise<Job> => JSON.parse((await core.call(99, 'get', jid)) as string) as Job;
const locks = async (id: string): Promise<string[]> => JSON.parse((await core.call(0, 'throttle.locks', id)) as string) as string[];
const pending = async (id: string): Promise<string[]> => JSON.parse((await core.call(0, 'throttle.pending', id)) as string) as string[];
const setThrottle = (id: string, maximum: Arg, ...rest: Arg[]) => core.call(0, 'throttle.set', id, maximum, ...rest);
const throttled = (queue = 'queue') => ctx.redis.zrange(`ql:q:${queue}-throttled`, 0, -1);
const complete = (now: number, jid: string, queue = 'queue', ...rest: Arg[]) =>
  core.call(now, 'complete', jid, 'worker', queue, '{}', ...rest);

describe('throttle commands', () => {
  it('set writes id and maximum, with a TTL only for an expiration above 0', async () => {
    await setThrottle('tid', 5, 0);
    expect(await ctx.redis.hgetall('ql:th:tid')).toEqual({ id: 'tid', maximum: '5' });
    expect(await ctx.redis.ttl('ql:th:tid')).toBe(-1);
    await setThrottle('tid', 5, 1000);
    expect(await ctx.redis.ttl('ql:th:tid')).toBe(1000);
    await setThrottle('tid', 6);
    expect(await ctx.redis.hget('ql:th:tid', 'maximum')).toBe('6');
    expect(await ctx.redis.ttl('ql:th:tid')).toBe(1000);
  });

  it('get echoes the id and reads 0 and -2 for a throttle never set or deleted', async () => {
    expect(JSON.parse((await core.call(0, 'throttle.get', 'tid')) as string)).toEqual({ id: 'tid', maximum: 0, ttl: -2 });
    await setThrottle('tid', 3);
    expect(JSON.parse((await core.call(0, 'throttle.get', 'tid')) as string)).toEqual({ id: 'tid', maximum: 3, ttl: -1 });
    await core.call(0, 'throttle.delete', 'tid');
    expect(JSON.parse((await core.call(0, 'throttle.get', 'tid')) as string)).toEqual({ id: 'tid', maximum: 0, ttl: -2 });
  });

  it('throttle.ttl answers the TTL alone', async () => {
    expect(await core.call(0, 'throttle.ttl', 'tid')).toBe(-2);
    await setThrottle('tid', 3, 50);
    expect(await core.call(0, 'throttle.ttl', 'tid')).toBe(50);
  });

  it('queue.throttle.get/set are throttle.get/set of ql:q:<queue>', async () => {
    await core.call(0, 'queue.throttle.set', 'queue', 2);
    expect(await ctx.redis.hgetall('ql:th:ql:q:queue')).toEqual({ id: 'ql:q:queue', maximum: '2' });
    expect(JSON.parse((await core.call(0, 'queue.throttle.get', 'queue')) as string)).toEqual({ id: 'ql:q:queue', maximum: 2, ttl: -1 });
  });

  it('locks and pending reply [] when empty; delete drops only the hash', async () => {
    expect(await core.call(0, 'throttle.locks', 'tid')).toBe('[]');
    expect(await core.call(0, 'throttle.pending', 'tid')).toBe('[]');
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await putThrottled(0, 'b', ['tid']);
    await popJids(1, 1);
    expect(await locks('tid')).toEqual(['a']);
    await core.call(2, 'throttle.delete', 'tid');
    expect(await ctx.redis.exists('ql:th:tid')).toBe(0);
    expect(await locks('tid')).toEqual(['a']);
  });

  it('refuses a missing id, a maximum that is not a whole number >= 0 and a bad expiration, writing nothing', async () => {
    const before = await snapshot(ctx.redis);
    await expect(core.call(0, 'throttle.set')).rejects.toThrow('Throttle(): no tid provided');
    await expect(core.call(0, 'throttle.get')).rejects.toThrow('Throttle(): no tid provided');
    for (const bad of ['x', '-1', '1.5', 'inf']) {
      await expect(setThrottle('tid', bad)).rejects.toThrow(`Throttle(): Arg "maximum" must be a whole number of at least 0: ${bad}`);
    }
    await expect(core.call(0, 'throttle.set', 'tid')).rejects.toThrow('Throttle(): Arg "maximum" must be a whole number of at least 0: nil');
    await expect(setThrottle('tid', 1, 'soon')).rejects.toThrow('Throttle(): Arg "expiration" not a number: soon');
    await expect(core.call(0, 'queue.throttle.set', 'queue', 'x')).rejects.toThrow('Arg "maximum"');
    await expect(put(0, 'j', 'queue', 'throttles', '"api"')).rejects.toThrow('Put(): Arg "throttles" not JSON');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });
});

describe('the keys, as reqless-core lays them out', () => {
  it('locks score 1, parked jobs score when parked, in ql:th:<id>-pending and ql:q:<queue>-throttled', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await putThrottled(0, 'b', ['tid']);
    await popJids(7.5, 2);
    expect(await zsetWithScores(ctx.redis, 'ql:th:tid-locks')).toEqual([['a', '1']]);
    expect(await zsetWithScores(ctx.redis, 'ql:th:ql:q:queue-locks')).toEqual([['a', '1']]);
    expect(await zsetWithScores(ctx.redis, 'ql:th:tid-pending')).toEqual([['b', '7.5']]);
    expect(await zsetWithScores(ctx.redis, 'ql:q:queue-throttled')).toEqual([['b', '7.5']]);
    expect(await ctx.redis.hget('ql:j:b', 'throttles')).toBe('["tid","ql:q:queue"]');
    expect(await ctx.redis.hgetall('ql:th:tid')).toEqual({ id: 'tid', maximum: '1' });
  });
});

describe('throttles on put', () => {
  it('a job without throttles of its own keeps qless-core\'s job object, byte for byte', async () => {
    await put(0, 'jid');
    const text = (await core.call(1, 'get', 'jid')) as string;
    expect(text).not.toContain('throttles');
    expect(await ctx.redis.hexists('ql:j:jid', 'throttles')).toBe(0);
    const popped = (await core.call(1, 'pop', 'queue', 'worker', 1)) as string;
    expect(popped).not.toContain('throttles');
  });

  it('stores the named throttles with the queue throttle last, each once', async () => {
    await putThrottled(0, 'jid', ['tid']);
    expect((await get('jid')).throttles).toEqual(['tid', 'ql:q:queue']);
    await putThrottled(0, 'two', ['tid', 'tid', 'ql:q:queue', 'wid']);
    expect((await get('two')).throttles).toEqual(['tid', 'wid', 'ql:q:queue']);
  });

  it('requeue into another queue swaps the queue throttle and keeps the rest of the job', async () => {
    await putThrottled(0, 'jid', ['tid'], 'queue', 'priority', 3, 'tags', '["t"]');
    await core.call(1, 'requeue', 'worker', 'queue-2', 'jid', 'klass', '{}', 0, 'throttles', '["tid"]');
    const job = await get('jid');
    expect(job.throttles).toEqual(['tid', 'ql:q:queue-2']);
    expect([job.queue, job.priority, job.tags]).toEqual(['queue-2', 3, ['t']]);
  });

  it('a re-put without the option keeps the named throttles (R8) and drops the old queue\'s', async () => {
    await putThrottled(0, 'jid', ['tid', 'ql:q:queue']);
    await put(1, 'jid', 'other');
    expect((await get('jid')).throttles).toEqual(['tid', 'ql:q:other']);
    await put(2, 'jid', 'other', 'throttles', '[]');
    expect(await ctx.redis.hexists('ql:j:jid', 'throttles')).toBe(0);
  });

  it('parks a job at put when one of its throttles is full', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    expect(await popJids(1, 1)).toEqual(['a']);
    await putThrottled(2, 'b', ['tid']);
    const job = await get('b');
    expect(job.state).toBe('throttled');
    expect(job.history.at(-1)).toEqual({ what: 'throttled', when: 2, queue: 'queue' });
    expect(await pending('tid')).toEqual(['b']);
    expect(await throttled()).toEqual(['b']);
    expect(await ctx.redis.zcard('ql:q:queue-work')).toBe(0);
    expect(await core.call(3, 'jobs', 'throttled', 'queue')).toEqual(['b']);
  });

  it('{} counts as no throttles', async () => {
    await put(0, 'jid', 'queue', 'throttles', '{}');
    expect(await ctx.redis.hexists('ql:j:jid', 'throttles')).toBe(0);
  });

  it('parked jobs are counted by neither length nor the queue\'s waiting count', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await putThrottled(0, 'b', ['tid']);
    await popJids(1, 2);
    expect(await core.call(2, 'length', 'queue')).toBe(1);
    const counts = JSON.parse((await core.call(2, 'queues', 'queue')) as string) as Record<string, unknown>;
    expect([counts['waiting'], counts['running']]).toEqual([0, 1]);
    expect(counts).not.toHaveProperty('throttled');
  });

  it('a delayed or dependent job is not checked at put', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await popJids(1, 1);
    await putThrottled(2, 'later', ['tid'], 'queue');
    await core.call(2, 'put', 'worker', 'queue', 'delayed', 'klass', '{}', 10, 'throttles', '["tid"]');
    await core.call(2, 'put', 'worker', 'queue', 'dep', 'klass', '{}', 0, 'throttles', '["tid"]', 'depends', '["later"]');
    expect((await get('delayed')).state).toBe('scheduled');
    expect((await get('dep')).state).toBe('depends');
  });

  it('R1: a re-put holder lets go of its slot and does not park behind itself', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await popJids(1, 1);
    await putThrottled(2, 'a', ['tid']);
    expect(await locks('tid')).toEqual([]);
    expect((await get('a')).state).toBe('waiting');
    expect(await popJids(3, 1)).toEqual(['a']);
  });

  it('R1: a parked job put elsewhere leaves the pending set and is not re-admitted later', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await putThrottled(0, 'b', ['tid']);
    await popJids(1, 2);
    expect(await pending('tid')).toEqual(['b']);
    await put(2, 'b', 'other', 'throttles', '[]');
    expect(await pending('tid')).toEqual([]);
    expect(await throttled()).toEqual([]);
    expect(await popJids(3, 1, 'other')).toEqual(['b']);
    await complete(4, 'a');
    expect(await ctx.redis.zcard('ql:q:queue-work')).toBe(0);
  });
});

describe('throttles on pop', () => {
  it('maximum 1 and four jobs: pop 4 locks the first and parks the other three', async () => {
    await setThrottle('ql:q:queue', 1);
    for (const jid of ['a', 'b', 'c', 'd']) await put(0, jid);
    expect(await popJids(1, 4)).toHaveLength(1);
    expect(await locks('ql:q:queue')).toHaveLength(1);
    expect(await pending('ql:q:queue')).toHaveLength(3);
    expect((await throttled()).sort()).toHaveLength(3);
    for (const jid of await pending('ql:q:queue')) expect((await get(jid)).state).toBe('throttled');
  });

  it('never locks part of a job\'s throttles', async () => {
    await setThrottle('wid', 1);
    await putThrottled(0, 'holder', ['wid']);
    await popJids(1, 1);
    await putThrottled(2, 'jid', ['tid', 'wid']);
    expect(await popJids(3, 1)).toEqual([]);
    expect(await locks('tid')).toEqual([]);
    expect(await locks('ql:q:queue')).toEqual(['holder']);
    expect(await pending('wid')).toEqual(['jid']);
    expect(await pending('tid')).toEqual([]);
    expect((await get('jid')).state).toBe('throttled');
  });

  it('parks only on the first full throttle of the list', async () => {
    await setThrottle('a', 1);
    await setThrottle('b', 1);
    await putThrottled(0, 'h', ['a', 'b']);
    await popJids(1, 1);
    await ctx.redis.hset('ql:config', 'max-pop-retry', '1');
    await core.call(2, 'put', 'worker', 'queue', 'j', 'klass', '{}', 0, 'throttles', '["a","b"]');
    expect(await pending('a')).toEqual(['j']);
    expect(await pending('b')).toEqual([]);
  });

  it('with the default max-pop-retry a pop may return fewer jobs; more rounds fill it', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid'], 'queue', 'priority', 10);
    await putThrottled(0, 'b', ['tid'], 'queue', 'priority', 9);
    await put(0, 'c', 'queue', 'priority', 1);
    await put(0, 'd', 'queue', 'priority', 0);
    expect(await popJids(1, 2)).toEqual(['a']);
    expect(await peekJids(1, 5)).toEqual(['c', 'd']);
    await core.call(1, 'config.set', 'queue-max-pop-retry', 99);
    await putThrottled(2, 'e', ['tid'], 'queue', 'priority', 20);
    expect((await get('e')).state).toBe('throttled');
    await putThrottled(2, 'f', ['tid'], 'queue', 'priority', 20, 'throttles', '["other"]');
    expect(await popJids(3, 3)).toEqual(['f', 'c', 'd']);
  });

  it('a large count parks every examined job that cannot lock', async () => {
    await setThrottle('tid', 2);
    for (const jid of ['a', 'b', 'c', 'd', 'e']) await putThrottled(0, jid, ['tid']);
    expect(await popJids(1, 10)).toHaveLength(2);
    expect(await pending('tid')).toHaveLength(3);
  });

  it('a job on an unlimited throttle still records its lock', async () => {
    await putThrottled(0, 'a', ['tid']);
    await popJids(1, 1);
    expect(await locks('tid')).toEqual(['a']);
    expect(await locks('ql:q:queue')).toEqual(['a']);
  });

  it('a full queue throttle still hands out a stalled job, and nothing else', async () => {
    await setThrottle('ql:q:queue', 1);
    await put(0, 'a');
    await put(0, 'b');
    expect(await popJids(1, 1)).toEqual(['a']);
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    expect(await popJids(200, 2, 'queue', 'other')).toEqual(['a']);
    expect((await get('b')).state).toBe('waiting');
  });

  it('below a lowered maximum pops return nothing, and nobody is evicted', async () => {
    await setThrottle('ql:q:queue', 3);
    for (const jid of ['a', 'b', 'c', 'd']) await put(0, jid);
    expect(await popJids(1, 3)).toHaveLength(3);
    await setThrottle('ql:q:queue', 1);
    expect(await popJids(2, 1)).toEqual([]);
    expect(await locks('ql:q:queue')).toHaveLength(3);
    expect((await get('d')).state).toBe('waiting');
  });

  it('counts the jobs already running when a queue limit is first set', async () => {
    for (const jid of ['a', 'b', 'c']) await put(0, jid);
    expect(await popJids(1, 2)).toHaveLength(2);
    await core.call(2, 'queue.throttle.set', 'queue', 2);
    expect(await locks('ql:q:queue')).toHaveLength(2);
    expect(await popJids(3, 1)).toEqual([]);
    await complete(4, (await locks('ql:q:queue'))[0]!);
    expect(await popJids(5, 1)).toEqual(['c']);
  });

  it('<queue>-max-concurrency and the queue throttle both apply; the lower one wins', async () => {
    for (const jid of ['a', 'b', 'c', 'd']) await put(0, jid);
    await core.call(0, 'config.set', 'queue-max-concurrency', 3);
    await core.call(0, 'queue.throttle.set', 'queue', 1);
    expect(await popJids(1, 4)).toHaveLength(1);
    await core.call(0, 'queue.throttle.set', 'queue', 10);
    expect(await popJids(2, 4)).toHaveLength(2);
  });

  it('a parked job gets no popped event', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'a', ['tid']);
    await putThrottled(0, 'b', ['tid']);
    await core.call(0, 'track', 'track', 'b');
    const recorder = await EventRecorder.start(ctx.url);
    try {
      await popJids(1, 2);
      const messages = await recorder.settle();
      expect(messages.filter((m) => m.channel === 'ql:popped').map((m) => m.message)).toEqual([]);
    } finally {
      recorder.close();
    }
  });
});

describe('where slots are given back', () => {
  async function holderAndParked(max = 1): Promise<void> {
    await setThrottle('tid', max);
    await putThrottled(0, 'a', ['tid'], 'queue', 'retries', 0);
    await putThrottled(0, 'b', ['tid']);
    expect(await popJids(1, 2)).toEqual(['a']);
    expect(await pending('tid')).toEqual(['b']);
  }

  it('complete re-admits the parked job as waiting (R3); it locks at the next pop', async () => {
    await holderAndParked();
    await complete(2, 'a');
    expect(await locks('tid')).toEqual([]);
    expect(await pending('tid')).toEqual([]);
    expect(await throttled()).toEqual([]);
    expect((await get('b')).state).toBe('waiting');
    expect(await popJids(3, 1)).toEqual(['b']);
    expect(await locks('tid')).toEqual(['b']);
  });

  it('fail, retry, cancel and timeout re-admit too', async () => {
    await holderAndParked();
    await core.call(2, 'fail', 'a', 'worker', 'group', 'message');
    expect((await get('b')).state).toBe('waiting');
    expect(await popJids(3, 1)).toEqual(['b']);

    await putThrottled(4, 'c', ['tid']);
    expect((await get('c')).state).toBe('throttled');
    await core.call(5, 'retry', 'b', 'queue', 'worker', 0);
    expect(await pending('tid')).toEqual([]);
    expect((await get('c')).state).toBe('waiting');

    expect(await popJids(6, 1)).toHaveLength(1);
    const [holder] = await locks('tid');
    const other = holder === 'b' ? 'c' : 'b';
    expect(await popJids(6, 1)).toEqual([]);
    expect(await pending('tid')).toEqual([other]);
    await core.call(7, 'cancel', holder!);
    expect(await popJids(8, 1)).toEqual([other]);

    await putThrottled(9, 'd', ['tid']);
    await core.call(10, 'timeout', other);
    expect((await get('d')).state).toBe('waiting');
    expect(await locks('tid')).toEqual([]);
  });

  it('cancel of a parked job takes it out of the pending set', async () => {
    await holderAndParked();
    await core.call(2, 'cancel', 'b');
    expect(await pending('tid')).toEqual([]);
    expect(await throttled()).toEqual([]);
  });

  it('a stalled holder keeps its slot when reclaimed; out of retries it gives it back', async () => {
    await holderAndParked();
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    // `a` has no retries left: its stall fails it and frees the slot, which
    // the same pop then gives `b`.
    expect(await popJids(200, 1, 'queue', 'other')).toEqual(['b']);
    expect((await get('a')).state).toBe('failed');
    // `b` stalls in turn, with retries left: handed out again, slot kept.
    expect(await popJids(400, 1, 'queue', 'third')).toEqual(['b']);
    expect(await locks('tid')).toEqual(['b']);
  });

  it('complete ... next swaps the queue throttle (R2)', async () => {
    await putThrottled(0, 'a', ['tid']);
    await popJids(1, 1);
    await complete(2, 'a', 'queue', 'next', 'queue-2');
    expect((await get('a')).throttles).toEqual(['tid', 'ql:q:queue-2']);
    expect(await locks('ql:q:queue')).toEqual([]);
  });

  it('a chain of dependents on a max-1 throttle runs one after the other; failing the first leaves no locks', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'one', ['tid']);
    await putThrottled(0, 'two', ['tid'], 'queue', 'depends', '["one"]');
    expect((await get('two')).state).toBe('depends');
    expect(await popJids(1, 2)).toEqual(['one']);
    await complete(2, 'one');
    expect(await popJids(3, 2)).toEqual(['two']);
    await core.call(4, 'fail', 'two', 'worker', 'group', 'message');
    expect(await locks('tid')).toEqual([]);
    expect(await locks('ql:q:queue')).toEqual([]);
  });

  it('retry with a parked competitor: both wait, and the competitor wins the tie', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'jid1', ['tid']);
    await putThrottled(0, 'jid2', ['tid']);
    expect(await popJids(1, 2)).toEqual(['jid1']);
    await core.call(2, 'retry', 'jid1', 'queue', 'worker', 0);
    expect(await popJids(2, 2)).toEqual(['jid2']);
    expect(await pending('tid')).toEqual(['jid1']);
  });
});

describe('limit changes (R4: parked jobs get the room at once)', () => {
  it('raising the maximum re-admits parked jobs', async () => {
    await setThrottle('tid', 1);
    for (const jid of ['a', 'b', 'c']) await putThrottled(0, jid, ['tid']);
    await ctx.redis.hset('ql:config', 'max-pop-retry', '9');
    expect(await popJids(1, 3)).toEqual(['a']);
    expect(await pending('tid')).toHaveLength(2);
    await setThrottle('tid', 3);
    expect(await pending('tid')).toEqual([]);
    expect(await popJids(2, 3)).toHaveLength(2);
  });

  it('delete makes the throttle unlimited and re-admits up to 10', async () => {
    await setThrottle('tid', 1);
    for (let i = 0; i < 13; i++) await putThrottled(0, `j${String(i).padStart(2, '0')}`, ['tid']);
    await ctx.redis.hset('ql:config', 'max-pop-retry', '99');
    expect(await popJids(1, 13)).toHaveLength(1);
    await core.call(2, 'throttle.delete', 'tid');
    expect(await pending('tid')).toHaveLength(2);
    expect(await popJids(3, 20)).toHaveLength(10);
  });

  it('an expired limit lets parked jobs wait for the next release, which any throttle.release makes', async () => {
    await setThrottle('tid', 1, 1);
    await putThrottled(0, 'a', ['tid']);
    await putThrottled(0, 'b', ['tid']);
    await popJids(1, 2);
    await ctx.redis.del('ql:th:tid');
    expect(await pending('tid')).toEqual(['b']);
    await core.call(2, 'throttle.release', 'tid', 'nobody');
    expect((await get('b')).state).toBe('waiting');
  });
});

describe('throttle.release (pinned oddities, R7)', () => {
  it('releasing the holder, then the parked job, re-admits the parked job', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'holder', ['tid']);
    await putThrottled(0, 'parked', ['tid']);
    await popJids(1, 2);
    await core.call(2, 'throttle.release', 'tid', 'holder', 'parked');
    expect(await peekJids(3, 5)).toEqual(['parked']);
    expect((await get('holder')).state).toBe('running');
  });

  it('releasing the parked job first leaves it in -throttled for good', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'holder', ['tid']);
    await putThrottled(0, 'parked', ['tid']);
    await popJids(1, 2);
    await core.call(2, 'throttle.release', 'tid', 'parked', 'holder');
    expect(await peekJids(3, 5)).toEqual([]);
    expect(await throttled()).toEqual(['parked']);
    expect(await pending('tid')).toEqual([]);
  });

  it('a parked jid whose job is gone is dropped, not an error', async () => {
    await setThrottle('tid', 1);
    await putThrottled(0, 'holder', ['tid']);
    await putThrottled(0, 'parked', ['tid']);
    await popJids(1, 2);
    await ctx.redis.del('ql:j:parked');
    await complete(2, 'holder');
    expect(await pending('tid')).toEqual([]);
  });
});

describe('throttles of recurring jobs', () => {
  const recur = (jid: string, queue = 'queue', ...options: Arg[]) =>
    core.call(0, 'recur', queue, jid, 'klass', '{}', 'interval', 60, 0, ...options);
  const template = async (jid: string) => JSON.parse((await core.call(0, 'recur.get', jid)) as string) as Record<string, unknown>;

  it('a template lists its throttles with the queue\'s last; without any it shows none', async () => {
    await recur('r', 'queue', 'throttles', '["lala"]');
    expect((await template('r')).throttles).toEqual(['lala', 'ql:q:queue']);
    await recur('plain');
    expect(await template('plain')).not.toHaveProperty('throttles');
    await recur('r', 'queue');
    expect(await template('r')).not.toHaveProperty('throttles');
  });

  it('re-recur into another queue takes that queue\'s throttle (R5)', async () => {
    await recur('r', 'queue', 'throttles', '["lala","ql:q:queue"]');
    await recur('r', 'other', 'throttles', '["lala","ql:q:queue"]');
    expect((await template('r')).throttles).toEqual(['lala', 'ql:q:other']);
  });

  it('children copy the list; recur.update throttles stores it as given; queue swaps', async () => {
    await recur('r', 'queue', 'throttles', '["lala"]');
    expect(await popJids(1, 1)).toEqual(['r-1']);
    expect((await get('r-1')).throttles).toEqual(['lala', 'ql:q:queue']);
    await core.call(1, 'recur.update', 'r', 'throttles', '["throttle"]');
    expect((await template('r')).throttles).toEqual(['throttle']);
    await core.call(1, 'recur.update', 'r', 'throttles', '["a","ql:q:queue"]');
    await core.call(1, 'recur.update', 'r', 'queue', 'other');
    expect((await template('r')).throttles).toEqual(['a', 'ql:q:other']);
    expect(await popJids(61, 1, 'other')).toEqual(['r-2']);
    expect((await get('r-2')).throttles).toEqual(['a', 'ql:q:other']);
  });
});
