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

type Arg = string | number;
type Job = { jid: string; state: string; worker: string; remaining: number; expires: number; history: Array<Record<string, unknown>> };
const put = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0, ...rest);
const pop = (now: number, worker: string, count: Arg = 1) => core.call(now, 'pop', 'q', worker, count);
const popJids = async (now: number, worker: string, count: Arg = 1) => {
  const reply = (await pop(now, worker, count)) as string;
  return reply === '{}' ? [] : (JSON.parse(reply) as Job[]).map((j) => j.jid);
};
const get = async (jid: string) => JSON.parse((await core.call(0, 'get', jid)) as string) as Job;
const field = (jid: string, name: string) => ctx.redis.hget(`ql:j:${jid}`, name);
const history = async (jid: string) => (await get(jid)).history.map((h) => h['what']);

describe('stalled jobs: the courtesy step and the grace period', () => {
  it.skipIf(compactLayout)('first warns, then reassigns at or after detection + grace-period', async () => {
    await put(0, 'jid');
    await pop(0, 'w1'); // expires 60
    expect(await popJids(60, 'w2')).toEqual([]);
    expect(await field('jid', 'grace')).toBe('1');
    expect(await field('jid', 'expires')).toBe('60'); // unchanged
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-locks')).toEqual([['jid', '70']]);
    expect(await ctx.redis.exists('ql:w:w1:jobs')).toBe(0);
    expect(await ctx.redis.hgetall('ql:s:stats:0:q')).toEqual({ retries: '1' });
    expect(await field('jid', 'remaining')).toBe('5');
    expect(await field('jid', 'worker')).toBe('w1');
    expect(await history('jid')).toEqual(['put', 'popped', 'timed-out']);

    expect(await popJids(69.9, 'w2')).toEqual([]);
    expect(await popJids(70, 'w2')).toEqual(['jid']);
    const job = await get('jid');
    expect([job.state, job.worker, job.remaining, job.expires]).toEqual(['running', 'w2', 4, 130]);
    expect(await field('jid', 'grace')).toBeNull();
    expect(job.history).toEqual([
      { when: 0, what: 'put', q: 'q' },
      { when: 0, what: 'popped', worker: 'w1' },
      { when: 60, what: 'timed-out' },
      { when: 70, what: 'popped', worker: 'w2' },
    ]);
    expect(await ctx.redis.hget('ql:s:stats:0:q', 'retries')).toBe('1');
  });

  it('the original worker can still finish a job whose lock expired unnoticed or is in its courtesy window', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await pop(0, 'w1', 2);
    expect(await core.call(100, 'heartbeat', 'a', 'w1')).toBe(160);
    await popJids(200, 'w2', 0); // count 0 examines nothing
    await popJids(200, 'w2', 1); // courtesy step for b (lock 60 ≤ 200) — a's lock is 160
    expect(await field('a', 'grace')).toBeNull();
    expect(await field('b', 'grace')).toBe('1');
    expect(await core.call(201, 'complete', 'b', 'w1', 'q', '{}')).toBe('complete');
  });

  it('with grace-period <= 0 warns and reassigns in the same pop', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(0, 'jid');
    await pop(0, 'w1');
    expect(await popJids(60, 'w2')).toEqual(['jid']);
    expect(await history('jid')).toEqual(['put', 'popped', 'timed-out', 'popped']);
    expect(await field('jid', 'grace')).toBeNull();
    expect(await field('jid', 'remaining')).toBe('4');
    expect(await ctx.redis.hget('ql:s:stats:0:q', 'retries')).toBe('1');
  });

  it('examines at most count expired locks, oldest lock first, ahead of waiting work', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(0, 'a');
    await put(0, 'b');
    await pop(0, 'w1');  // b, 60
    await pop(5, 'w1');  // a, 65
    await put(6, 'c', 'priority', 10);
    expect(await popJids(100, 'w2', 1)).toEqual(['b']);
    expect(await field('a', 'worker')).toBe('w1');
    expect(await popJids(100, 'w2', 3)).toEqual(['a', 'c']);
  });

  it('the grace flag is sticky: a rescued job is invalidated without notice at its next stall', async () => {
    await put(0, 'jid');
    await pop(0, 'w1');
    await pop(60, 'w2');                                      // courtesy, grace = 1
    await core.call(65, 'heartbeat', 'jid', 'w1');            // rescued, lock 125, grace kept
    expect(await field('jid', 'grace')).toBe('1');
    expect(await popJids(125, 'w2')).toEqual(['jid']);       // straight to invalidation
    expect(await history('jid')).toEqual(['put', 'popped', 'timed-out', 'popped']);
    expect(await ctx.redis.hget('ql:s:stats:0:q', 'retries')).toBe('1');
    expect(await field('jid', 'remaining')).toBe('4');
  });
});

describe('stalled jobs: retries running out', () => {
  it.skipIf(compactLayout)('fails the job with failed-retries-<queue> once remaining goes negative', async () => {
    await put(0, 'jid', 'retries', 1);
    await pop(0, 'w1');                                   // lock 60
    await pop(60, 'w2', 0);                               // count 0: nothing examined
    expect(await field('jid', 'grace')).toBeNull();
    await pop(60, 'w2', 1);                               // courtesy, lock 70
    expect(await popJids(70, 'w2')).toEqual(['jid']);     // remaining 0, lock 130
    await put(100, 'other');
    expect(await popJids(130, 'w3')).toEqual(['other']);  // courtesy for jid (lock 140), then waiting work
    expect(await popJids(140.25, 'w3')).toEqual([]);      // jid exhausted: not handed out
    const job = await ctx.redis.hgetall('ql:j:jid');
    expect([job.state, job.worker, job.expires, job.remaining, job.grace]).toEqual(['failed', '', '', '-1', undefined]);
    // `when` is not floored and `worker` is empty for a stall exhaustion.
    expect(JSON.parse(job.failure!)).toEqual({ group: 'failed-retries-q', message: 'Job exhausted retries in queue "q"', when: 140.25, worker: '' });
    expect(await ctx.redis.zrange('ql:q:q-locks', 0, -1)).toEqual(['other']);
    expect(await ctx.redis.smembers('ql:failures')).toEqual(['failed-retries-q']);
    expect(await ctx.redis.lrange('ql:f:failed-retries-q', 0, -1)).toEqual(['jid']);
    expect(await ctx.redis.hgetall('ql:s:stats:0:q')).toEqual({ retries: '2', failures: '1', failed: '1' });
    expect((await get('jid')).history.slice(-3)).toEqual([
      { when: 70, what: 'popped', worker: 'w2' },
      { when: 130, what: 'timed-out' },
      { when: 140, what: 'failed', group: 'failed-retries-q' },
    ]);
  });

  it('with retries 0 and grace 0 a single stall fails the job', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(0, 'jid', 'retries', 0);
    await pop(0, 'w1');
    expect(await popJids(60, 'w2')).toEqual([]);
    expect(await field('jid', 'state')).toBe('failed');
    expect(await history('jid')).toEqual(['put', 'popped', 'timed-out', 'failed']);
  });

  it('a fractional remaining (stored by an older core; put now refuses 1.5) makes the invalidation step fail in Redis', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(0, 'jid');
    await ctx.redis.hset('ql:j:jid', 'retries', '1.5', 'remaining', '1.5');
    await pop(0, 'w1');
    await expect(pop(60, 'w2')).rejects.toThrow('hash value is not an integer');
  });
});

describe('heartbeat', () => {
  it('validates, checking data before looking the job up', async () => {
    await put(0, 'jid');
    await pop(1, 'w1');
    const before = await snapshot(ctx.redis);
    await expect(core.call(2, 'heartbeat')).rejects.toThrow('Job(): no jid provided');
    await expect(core.call(2, 'heartbeat', 'jid')).rejects.toThrow('Heatbeat(): Arg "worker" missing');
    await expect(core.call(2, 'heartbeat', 'nope', 'w1', '{]')).rejects.toThrow('Expected object key string but found T_ARR_END at character 2');
    await expect(core.call(2, 'heartbeat', 'nope', 'w1')).rejects.toThrow('Heartbeat(): Job nope does not exist');
    await expect(core.call(2, 'heartbeat', 'jid', 'w2')).rejects.toThrow('Heartbeat(): Job jid given out to another worker: w1');
    expect(await snapshot(ctx.redis)).toEqual(before);
    await put(3, 'jid');
    await expect(core.call(4, 'heartbeat', 'jid', 'w1')).rejects.toThrow('Heartbeat(): Job jid not currently running: waiting');
  });

  it('renews the lock everywhere, registers the worker and returns the truncated expiry', async () => {
    await put(0, 'jid');
    await pop(1, 'w1');
    expect(await core.call(1.7, 'heartbeat', 'jid', 'w1')).toBe(61);
    expect(await field('jid', 'expires')).toBe('61.700000000000003');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-locks')).toEqual([['jid', '61.700000000000003']]);
    expect(await zsetWithScores(ctx.redis, 'ql:w:w1:jobs')).toEqual([['jid', '61.700000000000003']]);
    expect(await zsetWithScores(ctx.redis, 'ql:workers')).toEqual([['w1', '1.7']]);
    expect(await history('jid')).toEqual(['put', 'popped']);
  });

  it('uses the job queue\'s heartbeat setting', async () => {
    await put(0, 'jid');
    await pop(0, 'w1');
    await ctx.redis.hset('ql:config', 'q-heartbeat', '5');
    expect(await core.call(10, 'heartbeat', 'jid', 'w1')).toBe(15);
  });

  it('re-encodes data the way cjson does; false leaves it, null stores null', async () => {
    await put(0, 'jid');
    await pop(0, 'w1');
    const cases: Array<[string, string]> = [
      ['{"u": "a/b"}', '{"u":"a\\/b"}'],
      ['[]', '{}'],
      ['{"n": 0.123456789012345678}', '{"n":0.12345678901235}'],
      ['{"l": [1, 2]}', '{"l":[1,2]}'],
      ['null', 'null'],
    ];
    for (const [sent, stored] of cases) {
      await core.call(1, 'heartbeat', 'jid', 'w1', sent);
      expect(await field('jid', 'data')).toBe(stored);
    }
    await core.call(1, 'heartbeat', 'jid', 'w1', 'false');
    expect(await field('jid', 'data')).toBe('null');
  });

  it('refuses the old worker once the job was handed to another', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(0, 'jid');
    await pop(0, 'w1');
    await pop(60, 'w2');
    await expect(core.call(61, 'heartbeat', 'jid', 'w1')).rejects.toThrow('Heartbeat(): Job jid given out to another worker: w2');
  });
});

describe('timeout', () => {
  it('returns nil with no jids and validates each jid in turn', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(0, 'waiting', 'priority', -1);
    await pop(1, 'w1', 2);
    expect(await core.call(2, 'timeout')).toBeNull();
    await expect(core.call(2, 'timeout', 'nope')).rejects.toThrow('Timeout(): Job nope does not exist');
    await expect(core.call(2, 'timeout', 'waiting')).rejects.toThrow('Timeout(): Job waiting not running');
    // No all-or-nothing check: earlier jids stay timed out.
    await expect(core.call(2, 'timeout', 'a', 'nope', 'b')).rejects.toThrow('Timeout(): Job nope does not exist');
    expect(await field('a', 'state')).toBe('stalled');
    expect(await field('b', 'state')).toBe('running');
  });

  it.skipIf(compactLayout)('sends the job back to the head of the work set as stalled, keeping its worker', async () => {
    await put(0, 'jid', 'retries', 2);
    await pop(1, 'w1');
    expect(await core.call(5, 'timeout', 'jid')).toBeNull();
    const job = await ctx.redis.hgetall('ql:j:jid');
    expect([job.state, job.expires, job.worker, job.remaining]).toEqual(['stalled', '0', 'w1', '2']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['jid', 'inf']]);
    expect(await ctx.redis.exists('ql:q:q-locks')).toBe(0);
    expect(await zsetWithScores(ctx.redis, 'ql:w:w1:jobs')).toEqual([['jid', '61']]); // stale entry stays
    expect(await history('jid')).toEqual(['put', 'popped', 'timed-out']);
    expect(await ctx.redis.keys('ql:s:stats:*')).toEqual([]);
    // Counted as waiting, listed neither as running nor stalled.
    expect(await core.call(5, 'length', 'q')).toBe(1);
    expect(await core.call(5, 'jobs', 'stalled', 'q')).toEqual([]);
    expect(await core.call(5, 'jobs', 'running', 'q')).toEqual([]);
    expect(JSON.parse((await core.call(5, 'queues', 'q')) as string)).toMatchObject({ waiting: 1, running: 0, stalled: 0 });
    expect(JSON.parse((await core.call(5, 'peek', 'q', 1)) as string)[0].state).toBe('stalled');
  });

  it('a stalled job cannot be heartbeated, completed, failed or retried', async () => {
    await put(0, 'jid');
    await pop(1, 'w1');
    await core.call(2, 'timeout', 'jid');
    await expect(core.call(3, 'heartbeat', 'jid', 'w1')).rejects.toThrow('not currently running: stalled');
    await expect(core.call(3, 'complete', 'jid', 'w1', 'q', '{}')).rejects.toThrow('Complete(): Job jid is not currently running: stalled');
    await expect(core.call(3, 'fail', 'jid', 'w1', 'g', 'm')).rejects.toThrow('Fail(): Job jidnot currently running: stalled');
    await expect(core.call(3, 'retry', 'jid', 'q', 'w1')).rejects.toThrow('Retry(): Job jid is not currently running: stalled');
  });

  it('timed-out jobs pop before everything, ties in descending jid order', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(0, 'top', 'priority', 1000);
    await pop(1, 'w1', 3);
    await put(2, 'new', 'priority', 1e9);
    await core.call(3, 'timeout', 'a', 'b');
    expect(await popJids(4, 'w2', 4)).toEqual(['b', 'a', 'new']);
  });
});
