/**
 * Interop: the raw Redis keys our core writes are exactly the ones the spec
 * defines (so another qless client or core can read, pop and complete our
 * jobs), and keys written by hand the way another qless-core would have left
 * them are handled by our core.
 */
import { describe, expect, it } from 'vitest';
import { useRedis, testJobLayout } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { writeJob, zsetWithScores } from './support/raw.js';

// Tests marked skipIf(compactLayout) read the raw keys of today's job
// layout (fields holding defaults, `jid`, `time`, the -history list); in the
// core-compact project new jobs are stored otherwise, and
// test/core.compact.test.ts checks that layout's raw keys.
const compactLayout = testJobLayout() === 'compact';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

const T = 1700000000.123456;
/** The day bin of a time, as the spec computes it (floor-modulo). */
const dayBin = (t: number) => t - (t - Math.floor(t / 86400) * 86400);
const score = async (key: string, member: string) => {
  const s = await ctx.redis.zscore(key, member);
  return s === null ? null : Number(s);
};
const history = async (jid: string) => (await ctx.redis.lrange(`ql:j:${jid}-history`, 0, -1)).map((e) => JSON.parse(e) as unknown);


describe('keys written by our core, as the spec defines them', () => {
  it.skipIf(compactLayout)('put → pop → complete leaves exactly the spec keys and formats', async () => {
    // put
    expect(await core.call(T, 'put', 'client', 'q', 'jid', 'my.Klass', '{"a": [1, 2]}', 0,
      'priority', 3, 'retries', 2, 'tags', '["t1","t/2"]')).toBe('jid');
    expect(await ctx.redis.hgetall('ql:j:jid')).toEqual({
      jid: 'jid',
      klass: 'my.Klass',
      data: '{"a": [1, 2]}',
      priority: '3',
      tags: '["t1","t\\/2"]',
      state: 'waiting',
      worker: '',
      expires: '0',
      queue: 'q',
      retries: '2',
      remaining: '2',
      time: '1700000000.12345600128173828125',
    });
    expect(T.toFixed(20)).toBe('1700000000.12345600128173828125');
    expect(await ctx.redis.lrange('ql:j:jid-history', 0, -1)).toEqual(['[1700000000,"put",{"q":"q"}]']);
    expect(await score('ql:q:q-work', 'jid')).toBe(3 - T / 1e10);
    expect(await score('ql:queues', 'q')).toBe(T);
    expect(await score('ql:t:t1', 'jid')).toBe(T);
    expect(await score('ql:t:t/2', 'jid')).toBe(T);
    expect(await zsetWithScores(ctx.redis, 'ql:tags')).toEqual([['t/2', '1'], ['t1', '1']]);
    expect(await ctx.redis.exists('ql:workers')).toBe(0);

    // pop
    const popAt = T + 5;
    const expires = popAt + 60;
    const [job] = await core.json<Array<Record<string, unknown>>>(popAt, 'pop', 'q', 'worker-1', 1);
    expect(job).toMatchObject({ jid: 'jid', state: 'running', worker: 'worker-1', tags: ['t1', 't/2'], remaining: 2 });
    expect(await ctx.redis.hgetall('ql:j:jid')).toMatchObject({
      state: 'running',
      worker: 'worker-1',
      time: popAt.toFixed(20),
      queue: 'q',
    });
    expect(Number(await ctx.redis.hget('ql:j:jid', 'expires'))).toBe(expires);
    expect(await ctx.redis.exists('ql:q:q-work')).toBe(0);
    expect(await score('ql:q:q-locks', 'jid')).toBe(expires);
    expect(await score('ql:w:worker-1:jobs', 'jid')).toBe(expires);
    expect(await score('ql:workers', 'worker-1')).toBe(popAt);
    expect(await history('jid')).toEqual([
      [1700000000, 'put', { q: 'q' }],
      [1700000005, 'popped', { worker: 'worker-1' }],
    ]);
    const bin = dayBin(popAt);
    expect(bin).toBe(1699920000);
    const wait = await ctx.redis.hgetall(`ql:s:wait:${bin}:q`);
    const waited = popAt - T;
    expect(Number(wait['total'])).toBe(1);
    expect(Number(wait['mean'])).toBe(waited);
    expect(Number(wait['vk'])).toBe(0);
    expect(wait[`s${Math.floor(waited)}`]).toBe('1');

    // complete
    const doneAt = T + 10;
    expect(await core.call(doneAt, 'complete', 'jid', 'worker-1', 'q', '{"done":true}')).toBe('complete');
    expect(await ctx.redis.hgetall('ql:j:jid')).toEqual({
      jid: 'jid',
      klass: 'my.Klass',
      data: '{"done":true}',
      priority: '3',
      tags: '["t1","t\\/2"]',
      state: 'complete',
      worker: '',
      expires: '0',
      queue: '',
      retries: '2',
      remaining: '2',
      time: doneAt.toFixed(20),
      failure: '{}',
    });
    expect(await history('jid')).toEqual([
      [1700000000, 'put', { q: 'q' }],
      [1700000005, 'popped', { worker: 'worker-1' }],
      [1700000010, 'done'],
    ]);
    expect(await score('ql:completed', 'jid')).toBe(doneAt);
    expect(await ctx.redis.exists('ql:q:q-locks', 'ql:w:worker-1:jobs', 'ql:q:q-work')).toBe(0);
    expect(await score('ql:t:t1', 'jid')).toBe(T);
    const run = await ctx.redis.hgetall(`ql:s:run:${dayBin(doneAt)}:q`);
    expect(Number(run['total'])).toBe(1);
    expect(Number(run['mean'])).toBe(doneAt - popAt);
    // The worker stays registered until pruned.
    expect(await score('ql:workers', 'worker-1')).toBe(popAt);
  });

  it.skipIf(compactLayout)('writes empty tags as {}, and the scheduled and depends sets with their scores', async () => {
    await core.call(100, 'put', 'w', 'q', 'plain', 'k', '{}', 0);
    expect(await ctx.redis.hget('ql:j:plain', 'tags')).toBe('{}');
    expect(await ctx.redis.hget('ql:j:plain', 'time')).toBe('100.00000000000000000000');
    expect(await score('ql:q:q-work', 'plain')).toBe(0 - 100 / 1e10);

    await core.call(100, 'put', 'w', 'q', 'later', 'k', '{}', 30);
    expect(await ctx.redis.hget('ql:j:later', 'state')).toBe('scheduled');
    expect(await score('ql:q:q-scheduled', 'later')).toBe(130);

    await core.call(101, 'put', 'w', 'q', 'child', 'k', '{}', 0, 'depends', '["plain"]');
    expect(await ctx.redis.hget('ql:j:child', 'state')).toBe('depends');
    expect(await score('ql:q:q-depends', 'child')).toBe(101);
    expect(await ctx.redis.smembers('ql:j:child-dependencies')).toEqual(['plain']);
    expect(await ctx.redis.smembers('ql:j:plain-dependents')).toEqual(['child']);
  });

  it.skipIf(compactLayout)('writes recurring templates and their children with the spec layout', async () => {
    await core.call(10, 'recur', 'q', 'tmpl', 'k', '{}', 'interval', 60, 5, 'priority', 1, 'tags', '["r"]', 'retries', 4);
    expect(await ctx.redis.hgetall('ql:r:tmpl')).toEqual({
      jid: 'tmpl',
      klass: 'k',
      data: '{}',
      priority: '1',
      tags: '["r"]',
      state: 'recur',
      queue: 'q',
      type: 'interval',
      count: '0',
      interval: '60',
      retries: '4',
      backlog: '0',
    });
    expect(await score('ql:q:q-recur', 'tmpl')).toBe(15);
    await core.call(80, 'peek', 'q', 5);
    expect(await ctx.redis.hgetall('ql:j:tmpl-2')).toEqual({
      jid: 'tmpl-2',
      klass: 'k',
      data: '{}',
      priority: '1',
      tags: '["r"]',
      state: 'waiting',
      worker: '',
      expires: '0',
      queue: 'q',
      retries: '4',
      remaining: '4',
      time: '75.00000000000000000000',
      spawned_from_jid: 'tmpl',
    });
    expect(await history('tmpl-2')).toEqual([[75, 'put', { q: 'q' }]]);
    expect(await score('ql:q:q-work', 'tmpl-2')).toBe(1 - 75 / 1e10);
    expect(await score('ql:q:q-recur', 'tmpl')).toBe(135);
    expect(await ctx.redis.hget('ql:r:tmpl', 'count')).toBe('2');
  });

  it.skipIf(compactLayout)('fail writes ql:failures, ql:f:<group>, the failure field and the stats counters', async () => {
    await core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0);
    await core.call(1, 'pop', 'q', 'w', 1);
    await core.call(2.5, 'fail', 'jid', 'w', 'grp', 'boom');
    expect(await ctx.redis.hgetall('ql:j:jid')).toMatchObject({ state: 'failed', worker: '', expires: '' });
    expect(JSON.parse((await ctx.redis.hget('ql:j:jid', 'failure'))!)).toEqual({ group: 'grp', message: 'boom', when: 2, worker: 'w' });
    expect(await ctx.redis.smembers('ql:failures')).toEqual(['grp']);
    expect(await ctx.redis.lrange('ql:f:grp', 0, -1)).toEqual(['jid']);
    expect(await ctx.redis.hgetall('ql:s:stats:0:q')).toEqual({ failures: '1', failed: '1' });
  });
});

describe('keys written by another qless-core, handled by ours', () => {
  it('gets, pops and completes a hand-written waiting job', async () => {
    await writeJob(ctx.redis, 'foreign', { queue: 'q', klass: 'Other', data: '{"x":1}', priority: 2, tags: ['a'], retries: 3, time: 50 });
    const got = await core.json<Record<string, unknown>>(60, 'get', 'foreign');
    expect(got).toEqual({
      jid: 'foreign',
      klass: 'Other',
      state: 'waiting',
      queue: 'q',
      worker: '',
      tracked: false,
      priority: 2,
      expires: 0,
      retries: 3,
      remaining: 3,
      data: '{"x":1}',
      tags: ['a'],
      failure: {},
      spawned_from_jid: false,
      dependents: {},
      dependencies: {},
      history: [{ when: 50, what: 'put', q: 'q' }],
    });
    const [popped] = await core.json<Array<Record<string, unknown>>>(60, 'pop', 'q', 'ours', 1);
    expect(popped).toMatchObject({ jid: 'foreign', state: 'running', worker: 'ours', expires: 120 });
    expect(Number((await ctx.redis.hgetall('ql:s:wait:0:q'))['mean'])).toBe(10);
    expect(await core.call(70, 'complete', 'foreign', 'ours', 'q', '{}')).toBe('complete');
    expect(await ctx.redis.hget('ql:j:foreign', 'state')).toBe('complete');
    expect(await score('ql:completed', 'foreign')).toBe(70);
    // Tags written by the other core are maintained by ours.
    expect(await core.json(70, 'tag', 'get', 'a')).toEqual({ total: 1, jobs: ['foreign'] });
  });

  it('migrates a legacy history field and keeps working with the job', async () => {
    await writeJob(ctx.redis, 'legacy', { time: 5 });
    await ctx.redis.del('ql:j:legacy-history');
    await ctx.redis.hset('ql:j:legacy', 'history', JSON.stringify([{ q: 'q', put: 5.5 }]));
    const got = await core.json<{ history: unknown[] }>(6, 'get', 'legacy');
    expect(got.history).toEqual([{ when: 5, what: 'put', q: 'q' }]);
    await core.call(7, 'pop', 'q', 'w', 1);
    expect(await history('legacy')).toEqual([
      [5, 'put', { q: 'q' }],
      [7, 'popped', { worker: 'w' }],
    ]);
    expect(await ctx.redis.hexists('ql:j:legacy', 'history')).toBe(0);
  });

  it('reclaims a hand-written running job whose lock expired', async () => {
    await core.call(0, 'config.set', 'grace-period', 0);
    await writeJob(ctx.redis, 'held', { state: 'running', worker: 'other', expires: 100, retries: 1 });
    await ctx.redis.zadd('ql:q:q-locks', 100, 'held');
    await ctx.redis.zadd('ql:w:other:jobs', 100, 'held');
    await ctx.redis.zadd('ql:workers', 40, 'other');
    await events.settle();
    events.clear();
    expect(await core.json(50, 'workers', 'other')).toEqual({ jobs: ['held'], stalled: {} });
    const [job] = await core.json<Array<Record<string, unknown>>>(200, 'pop', 'q', 'ours', 1);
    expect(job).toMatchObject({ jid: 'held', worker: 'ours', remaining: 0 });
    expect(await ctx.redis.exists('ql:w:other:jobs')).toBe(0);
    expect(await events.settle()).toEqual([
      { channel: 'ql:w:other', message: '{"jid":"held","event":"lock_lost","worker":"other"}' },
      { channel: 'ql:log', message: '{"jid":"held","event":"lock_lost","worker":"other"}' },
    ]);
  });

  it('spawns from a hand-written recurring template (no backlog field)', async () => {
    await ctx.redis.hset('ql:r:tmpl', {
      jid: 'tmpl',
      klass: 'k',
      data: '{}',
      priority: '0',
      tags: '{}',
      state: 'recur',
      queue: 'q',
      type: 'interval',
      count: '4',
      interval: '60',
      retries: '5',
    });
    await ctx.redis.zadd('ql:q:q-recur', 120, 'tmpl');
    expect(await core.json(0, 'recur.get', 'tmpl')).toMatchObject({ count: 4, backlog: 0, tags: {} });
    const popped = await core.json<Array<{ jid: string }>>(200, 'pop', 'q', 'w', 5);
    expect(popped.map((j) => j.jid)).toEqual(['tmpl-5', 'tmpl-6']);
    expect(await score('ql:q:q-recur', 'tmpl')).toBe(240);
  });

  it('fails and lists a hand-written job through the failure keys', async () => {
    await writeJob(ctx.redis, 'bad', {
      state: 'failed',
      fields: { failure: '{"group":"g","message":"m","when":3,"worker":"x"}', expires: '' },
    });
    await ctx.redis.sadd('ql:failures', 'g');
    await ctx.redis.lpush('ql:f:g', 'bad');
    await ctx.redis.hset('ql:s:stats:0:q', 'failed', '1', 'failures', '1');
    expect(await core.json(10, 'failed')).toEqual({ g: 1 });
    expect(await core.json(10, 'failed', 'g')).toEqual({ total: 1, jobs: ['bad'] });
    expect(await core.json(10, 'get', 'bad')).toMatchObject({
      state: 'failed',
      expires: 0,
      failure: { group: 'g', message: 'm', when: 3, worker: 'x' },
    });
    // Re-put it: it leaves the failure list and the counter is decremented.
    await core.call(20, 'put', 'w', 'q', 'bad', 'k', '{}', 0);
    expect(await ctx.redis.exists('ql:f:g', 'ql:failures')).toBe(0);
    expect(await ctx.redis.hget('ql:s:stats:0:q', 'failed')).toBe('0');
  });
});
