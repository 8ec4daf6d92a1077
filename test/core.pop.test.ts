import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis, testJobLayout } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot, zsetWithScores } from './support/raw.js';

// Tests marked skipIf(compactLayout) read the raw keys of today's job
// layout (fields holding defaults, `jid`, `time`, the -history list); in the
// core-compact project new jobs are stored otherwise, and
// test/core.compact.test.ts checks that layout's raw keys.
const compactLayout = testJobLayout() === 'compact';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Job = Record<string, unknown> & { jid: string; state: string; worker: string; history: unknown[] };
type Arg = string | number;
const put = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0, ...rest);
const putIn = (now: number, queue: string, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', queue, jid, 'k', '{}', 0, ...rest);
const pop = (now: number, count: Arg, worker = 'w', queue = 'q') => core.call(now, 'pop', queue, worker, count);
const popJobs = async (now: number, count: Arg, worker = 'w', queue = 'q') => {
  const reply = await pop(now, count, worker, queue);
  return reply === '{}' ? [] : (JSON.parse(reply as string) as Job[]);
};
const popJids = async (now: number, count: Arg, worker = 'w', queue = 'q') => (await popJobs(now, count, worker, queue)).map((j) => j.jid);
const peekJobs = async (now: number, count: Arg, queue = 'q') => {
  const reply = await core.call(now, 'peek', queue, count);
  return reply === '{}' ? [] : (JSON.parse(reply as string) as Job[]);
};

describe('pop: validation (nothing is written)', () => {
  it('requires queue, worker and a numeric count', async () => {
    await put(0, 'jid');
    const before = await snapshot(ctx.redis);
    await expect(core.call(1, 'pop')).rejects.toThrow('Queue(): no queue name provided');
    await expect(core.call(1, 'pop', 'q')).rejects.toThrow('Pop(): Arg "worker" missing');
    await expect(core.call(1, 'pop', 'q', 'w')).rejects.toThrow('Pop(): Arg "count" missing or not a number: nil');
    await expect(core.call(1, 'pop', 'q', 'w', 'many')).rejects.toThrow('Pop(): Arg "count" missing or not a number: many');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });
});

describe('pop: handing out a job', () => {
  it('returns the job object of the spec example', async () => {
    await core.call(0, 'put', 'worker', 'queue', 'jid', 'klass', '{}', 0);
    const reply = await core.call(1, 'pop', 'queue', 'worker', 1);
    expect(JSON.parse(reply as string)).toEqual([{
      jid: 'jid', klass: 'klass', state: 'running', queue: 'queue', worker: 'worker',
      tracked: false, priority: 0, expires: 61, retries: 5, remaining: 5, data: '{}',
      tags: {}, failure: {}, spawned_from_jid: false, dependents: {}, dependencies: {},
      history: [{ when: 0, q: 'queue', what: 'put' }, { when: 1, what: 'popped', worker: 'worker' }],
    }]);
    // Empty lists are encoded as {} in the text itself.
    expect(reply).toContain('"tags":{}');
    expect(reply).toContain('"dependents":{}');
  });

  it.skipIf(compactLayout)('writes the lock in the hash, the lock set and the worker set, and leaves the work set', async () => {
    await put(0, 'jid');
    await pop(1.5, 1);
    const job = await ctx.redis.hgetall('ql:j:jid');
    expect([job.state, job.worker, job.expires, job.time]).toEqual(['running', 'w', '61.5', '1.50000000000000000000']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-locks')).toEqual([['jid', '61.5']]);
    expect(await zsetWithScores(ctx.redis, 'ql:w:w:jobs')).toEqual([['jid', '61.5']]);
    expect(await zsetWithScores(ctx.redis, 'ql:workers')).toEqual([['w', '1.5']]);
    expect(await ctx.redis.exists('ql:q:q-work')).toBe(0);
  });

  it('uses <queue>-heartbeat, else heartbeat, else 60', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await putIn(0, 'other', 'c');
    await ctx.redis.hset('ql:config', 'heartbeat', '100', 'q-heartbeat', '30');
    expect((await popJobs(10, 1))[0]!.expires).toBe(40);
    expect((await popJobs(10, 1, 'w', 'other'))[0]!.expires).toBe(110);
    await ctx.redis.hdel('ql:config', 'heartbeat', 'q-heartbeat');
    expect((await popJobs(10, 1))[0]!.expires).toBe(70);
  });

  it('records a wait sample of now - time and resets time', async () => {
    await put(0, 'jid');
    await pop(5, 1);
    expect(await ctx.redis.hgetall('ql:s:wait:0:q')).toEqual({ total: '1', mean: '5', vk: '0', s5: '1' });
  });

  it('returns {} (as text) when there is nothing, but still registers the worker', async () => {
    expect(await pop(3, 5)).toBe('{}');
    expect(await zsetWithScores(ctx.redis, 'ql:workers')).toEqual([['w', '3']]);
  });

  it('pops a larger priority first, then oldest first, exact ties in descending jid order', async () => {
    await put(0, 'low', 'priority', -10);
    await put(1, 'mid-late');
    await put(0, 'mid-early');
    await put(2, 'high', 'priority', 9);
    await put(5, 'a');
    await put(5, 'c');
    await put(5, 'b');
    expect(await popJids(6, 10)).toEqual(['high', 'mid-early', 'mid-late', 'c', 'b', 'a', 'low']);
  });

  it('pops a stalled (timed-out) job ahead of everything', async () => {
    await put(0, 'slow');
    await put(0, 'urgent', 'priority', 100);
    expect(await popJids(1, 1)).toEqual(['urgent']);
    await put(2, 'other', 'priority', 50);
    await core.call(3, 'timeout', 'urgent');
    expect(await popJids(4, 3, 'w2')).toEqual(['urgent', 'other', 'slow']);
  });
});

describe('pop: count edge cases', () => {
  it('count 0 returns {} and registers the worker', async () => {
    await put(0, 'jid');
    expect(await pop(1, 0)).toBe('{}');
    expect(await ctx.redis.zscore('ql:workers', 'w')).toBe('1');
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('waiting');
  });

  // The reference passed these on to Redis: -1 popped every waiting job but
  // the last, 1.5 failed with Redis's text after registering the worker.
  it('refuses a negative, fractional or non-finite count before any write, with Redis\'s text', async () => {
    for (const jid of ['a', 'b', 'c']) await put(0, jid);
    const before = await snapshot(ctx.redis);
    for (const bad of ['-1', '1.5', '-0.5']) {
      await expect(pop(1, bad)).rejects.toThrow(`Pop(): Arg "count" value is not an integer or out of range: ${bad}`);
      await expect(core.call(1, 'pop.raw', 'q', 'w', bad)).rejects.toThrow(`Pop(): Arg "count" value is not an integer or out of range: ${bad}`);
    }
    for (const bad of ['nan', 'inf', '-inf']) {
      await expect(pop(1, bad)).rejects.toThrow(`Pop(): Arg "count" missing or not a number: ${bad}`);
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
  });
});

describe('pop: paused queues', () => {
  it('returns {} before registering the worker or touching locks and schedules', async () => {
    await put(0, 'jid');
    await core.call(0, 'put', 'w', 'q', 'later', 'k', '{}', 5);
    await pop(1, 1, 'w1');
    await core.call(2, 'pause', 'q');
    const before = await snapshot(ctx.redis);
    expect(await pop(100, 10, 'w2')).toBe('{}');
    expect(await snapshot(ctx.redis)).toEqual(before);
    // Pausing does not affect put or peek.
    await put(101, 'more');
    expect((await peekJobs(101, 1)).map((j) => j.jid)).toEqual(['jid']);
    await core.call(102, 'unpause', 'q');
    // Promotion scores with the promoting call's now (200), so `more` (put at 101) goes first;
    // the expired lock of `jid` only gets its courtesy notice.
    expect(await popJids(200, 2, 'w2')).toEqual(['more', 'later']);
    expect(await ctx.redis.hget('ql:j:jid', 'grace')).toBe('1');
  });
});

describe('pop: max concurrency', () => {
  it('caps the count at limit minus running locks, and registers the worker anyway', async () => {
    for (const jid of ['a', 'b', 'c', 'd']) await put(0, jid);
    await ctx.redis.hset('ql:config', 'q-max-concurrency', '2');
    expect(await popJids(1, 5)).toEqual(['d', 'c']);
    expect(await pop(2, 5, 'w2')).toBe('{}');
    expect(await ctx.redis.zscore('ql:workers', 'w2')).toBe('2');
    await core.call(3, 'complete', 'd', 'w', 'q', '{}');
    expect(await popJids(4, 5)).toEqual(['b']);
  });

  it('does not count expired locks, so stalled jobs can be reclaimed; courtesy locks do count', async () => {
    await put(0, 'b');
    await ctx.redis.hset('ql:config', 'q-max-concurrency', '1', 'heartbeat', '10');
    expect(await popJids(0, 1, 'w1')).toEqual(['b']);
    // A lock expiring exactly now still counts as running.
    expect(await pop(10, 1, 'w2')).toBe('{}');
    expect(await ctx.redis.zscore('ql:q:q-locks', 'b')).toBe('10');
    // Expired: the courtesy step moves the lock to now + grace (10) ...
    expect(await pop(11, 1, 'w2')).toBe('{}');
    expect(await ctx.redis.zscore('ql:q:q-locks', 'b')).toBe('21');
    // ... and that courtesy lock counts as running until it passes.
    expect(await pop(21, 1, 'w2')).toBe('{}');
    expect(await ctx.redis.hget('ql:j:b', 'grace')).toBe('1');
    expect(await popJids(21.5, 1, 'w2')).toEqual(['b']);
    expect(await ctx.redis.hget('ql:j:b', 'worker')).toBe('w2');
  });

  it('treats 0 and negative limits as no limit', async () => {
    for (const jid of ['a', 'b', 'c']) await put(0, jid);
    await ctx.redis.hset('ql:config', 'q-max-concurrency', '-1');
    expect(await popJids(1, 2)).toEqual(['c', 'b']);
  });
});

describe('scheduled jobs', () => {
  it('are promoted by pop once ready, with the score of the promoting call', async () => {
    await core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 10, 'priority', 2);
    expect(await pop(9.99, 1)).toBe('{}');
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('scheduled');
    await core.call(10, 'peek', 'q', 1);
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('waiting');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['jid', '1.9999999989999999']]);
    expect(await ctx.redis.exists('ql:q:q-scheduled')).toBe(0);
    // time was not touched, so the delay counts as waiting time.
    await pop(12, 1);
    expect(await ctx.redis.hget('ql:s:wait:0:q', 'mean')).toBe('12');
  });

  it('promotes only count minus already selected jobs, earliest first', async () => {
    await core.call(0, 'put', 'w', 'q', 'x', 'k', '{}', 5);
    await core.call(0, 'put', 'w', 'q', 'y', 'k', '{}', 3);
    expect(await popJids(10, 1)).toEqual(['y']);
    expect(await ctx.redis.zrange('ql:q:q-scheduled', 0, -1)).toEqual(['x']);
    expect(await ctx.redis.hget('ql:j:x', 'state')).toBe('scheduled');
  });

  it('ready scheduled jobs compete with waiting work by priority', async () => {
    await put(0, 'waiting');
    await core.call(0, 'put', 'w', 'q', 'sched', 'k', '{}', 5, 'priority', 1);
    expect(await popJids(10, 2)).toEqual(['sched', 'waiting']);
  });

  it('never promotes negative ready times', async () => {
    await core.call(-100, 'put', 'w', 'q', 'jid', 'k', '{}', 10);
    expect(await ctx.redis.zscore('ql:q:q-scheduled', 'jid')).toBe('-90');
    expect(await pop(0, 1)).toBe('{}');
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('scheduled');
  });
});

describe('peek', () => {
  it('validates queue and count', async () => {
    await expect(core.call(0, 'peek')).rejects.toThrow('Queue(): no queue name provided');
    await expect(core.call(0, 'peek', 'q')).rejects.toThrow('Peek(): Arg "count" missing or not a number: nil');
    await expect(core.call(0, 'peek', 'q', 'x')).rejects.toThrow('Peek(): Arg "count" missing or not a number: x');
  });

  it('shows jobs in pop order without changing anything (no worker, stats, history)', async () => {
    await put(0, 'a');
    await put(1, 'b', 'priority', 1);
    const before = await snapshot(ctx.redis);
    const jobs = await peekJobs(5, 10);
    expect(jobs.map((j) => [j.jid, j.state, j.worker])).toEqual([['b', 'waiting', ''], ['a', 'waiting', '']]);
    expect(jobs[0]!.history).toEqual([{ when: 1, q: 'q', what: 'put' }]);
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect(await core.call(5, 'peek', 'q', 0)).toBe('{}');
    expect(await core.call(5, 'peek', 'empty', 3)).toBe('{}');
  });

  it('lists expired locks first, unchanged, in lock order', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(0, 'c');
    await pop(0, 1, 'w1');  // c, expires 60
    await pop(10, 1, 'w2'); // b, expires 70
    const before = await snapshot(ctx.redis);
    const jobs = await peekJobs(100, 2);
    expect(jobs.map((j) => [j.jid, j.state, j.worker])).toEqual([['c', 'running', 'w1'], ['b', 'running', 'w2']]);
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect((await peekJobs(100, 5)).map((j) => j.jid)).toEqual(['c', 'b', 'a']);
    // A lock is expired at exactly its expiry time.
    expect((await peekJobs(60, 1)).map((j) => j.jid)).toEqual(['c']);
    expect((await peekJobs(59.9, 1)).map((j) => j.jid)).toEqual(['a']);
  });

  it('ignores pausing; refuses a negative, fractional or non-finite count', async () => {
    for (const jid of ['a', 'b', 'c']) await put(0, jid);
    await core.call(0, 'pause', 'q');
    expect((await peekJobs(1, 2)).map((j) => j.jid)).toEqual(['c', 'b']);
    await expect(core.call(1, 'peek', 'q', -1)).rejects.toThrow('Peek(): Arg "count" value is not an integer or out of range: -1');
    await expect(core.call(1, 'peek', 'q', 0.5)).rejects.toThrow('Peek(): Arg "count" value is not an integer or out of range: 0.5');
    await expect(core.call(1, 'peek', 'q', 'inf')).rejects.toThrow('Peek(): Arg "count" missing or not a number: inf');
  });

  it('promotes ready scheduled jobs, up to count minus expired locks', async () => {
    await core.call(0, 'put', 'w', 'q', 's1', 'k', '{}', 1);
    await core.call(0, 'put', 'w', 'q', 's2', 'k', '{}', 2);
    expect((await peekJobs(5, 1)).map((j) => [j.jid, j.state])).toEqual([['s1', 'waiting']]);
    expect(await ctx.redis.hget('ql:j:s2', 'state')).toBe('scheduled');
  });
});
