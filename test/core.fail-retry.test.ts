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
const put = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0, ...rest);
const pop = (now: number, count: Arg = 1, worker = 'w', queue = 'q') => core.call(now, 'pop', queue, worker, count);
const hash = (jid: string) => ctx.redis.hgetall(`ql:j:${jid}`);
const history = (jid: string) => ctx.redis.lrange(`ql:j:${jid}-history`, 0, -1);
const failure = async (jid: string) => JSON.parse((await ctx.redis.hget(`ql:j:${jid}`, 'failure'))!) as Record<string, unknown>;
async function running(jid: string, now = 0, ...rest: Arg[]): Promise<void> {
  await put(now, jid, ...rest);
  await pop(now);
}

describe('fail', () => {
  it('validates (data before the lookup; the reference texts lack spaces) and writes nothing', async () => {
    await running('jid');
    await put(0, 'waiting', 'priority', -1);
    const before = await snapshot(ctx.redis);
    const cases: Array<[Arg[], string]> = [
      [[], 'Job(): no jid provided'],
      [['jid'], 'Fail(): Arg "worker" missing'],
      [['jid', 'w'], 'Fail(): Arg "group" missing'],
      [['jid', 'w', 'g'], 'Fail(): Arg "message" missing'],
      [['nope', 'w', 'g', 'm', '{]'], 'Expected object key string but found T_ARR_END at character 2'],
      [['nope', 'w', 'g', 'm'], 'Fail(): Job nopedoes not exist'],
      [['waiting', 'w', 'g', 'm'], 'Fail(): Job waitingnot currently running: waiting'],
      [['jid', 'w2', 'g', 'm'], 'Fail(): Job jid running with another worker: w'],
    ];
    for (const [args, message] of cases) {
      await expect(core.call(1, 'fail', ...args)).rejects.toThrow(message);
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it.skipIf(compactLayout)('moves the job to failed, keeping queue, remaining and time', async () => {
    const now = 3 * 86400 + 0.75;
    await running('jid', 10);
    await ctx.redis.hset('ql:j:jid', 'remaining', '2');
    expect(await core.call(now, 'fail', 'jid', 'w', 'grp', 'it broke')).toBe('jid');
    const job = await hash('jid');
    expect(job).toMatchObject({ state: 'failed', worker: '', expires: '', queue: 'q', remaining: '2', time: '10.00000000000000000000', data: '{}' });
    expect(await failure('jid')).toEqual({ group: 'grp', message: 'it broke', when: 3 * 86400, worker: 'w' });
    expect((await history('jid'))[2]).toMatch(/^\[259200,"failed",\{("worker":"w","group":"grp"|"group":"grp","worker":"w")\}\]$/);
    expect(await ctx.redis.hgetall(`ql:s:stats:${3 * 86400}:q`)).toEqual({ failures: '1', failed: '1' });
    expect(await ctx.redis.exists('ql:q:q-locks', 'ql:w:w:jobs')).toBe(0);
    expect(await ctx.redis.smembers('ql:failures')).toEqual(['grp']);
    expect(await ctx.redis.lrange('ql:f:grp', 0, -1)).toEqual(['jid']);
  });

  it('pushes newer failures at the head of the group list', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await pop(0, 2);
    await core.call(1, 'fail', 'a', 'w', 'grp', 'm');
    await core.call(2, 'fail', 'b', 'w', 'grp', 'm');
    expect(await ctx.redis.lrange('ql:f:grp', 0, -1)).toEqual(['b', 'a']);
  });

  it('stores given data re-encoded; false keeps the old data; null stores null', async () => {
    for (const [jid, sent, stored] of [['a', '{"p": "x/y"}', '{"p":"x\\/y"}'], ['b', 'false', '{"keep":1}'], ['c', 'null', 'null']] as const) {
      await core.call(0, 'put', 'w', 'q', jid, 'k', '{"keep":1}', 0);
      await pop(0);
      await core.call(1, 'fail', jid, 'w', 'g', 'm', sent);
      expect(await ctx.redis.hget(`ql:j:${jid}`, 'data')).toBe(stored);
    }
  });
});

describe('retry', () => {
  it('validates and writes nothing', async () => {
    await running('jid');
    await put(0, 'waiting', 'priority', -1);
    const before = await snapshot(ctx.redis);
    const cases: Array<[Arg[], string]> = [
      [[], 'Job(): no jid provided'],
      [['jid'], 'Retry(): Arg "queue" missing'],
      [['jid', 'q'], 'Retry(): Arg "worker" missing'],
      [['jid', 'q', 'w', 'later'], 'Retry(): Arg "delay" not a number: later'],
      [['nope', 'q', 'w'], 'Retry(): Job nope does not exist'],
      [['waiting', 'q', 'w'], 'Retry(): Job waiting is not currently running: waiting'],
      [['jid', 'q', 'w2'], 'Retry(): Job jid has been given to another worker: w'],
    ];
    for (const [args, message] of cases) {
      await expect(core.call(1, 'retry', ...args)).rejects.toThrow(message);
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it.skipIf(compactLayout)('puts the job back without history, keeping worker and expires (quirk)', async () => {
    await running('jid', 0, 'priority', 3);
    await ctx.redis.hset('ql:j:jid', 'grace', '1');
    expect(await core.call(5, 'retry', 'jid', 'q', 'w')).toBe(4);
    const job = await hash('jid');
    expect(job).toMatchObject({ state: 'waiting', worker: 'w', expires: '60', remaining: '4', time: '0.00000000000000000000' });
    expect(job.grace).toBeUndefined();
    expect(job.failure).toBeUndefined();
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['jid', '2.9999999995']]);
    expect(await ctx.redis.exists('ql:q:q-locks', 'ql:w:w:jobs')).toBe(0);
    expect(await history('jid')).toEqual(['[0,"put",{"q":"q"}]', '[0,"popped",{"worker":"w"}]']);
    // time was not reset, so the next wait sample includes the running time.
    await pop(7);
    expect(await ctx.redis.hget('ql:s:wait:0:q', 'vk')).toBe('24.5');
  });

  it('schedules with a positive delay', async () => {
    await running('jid');
    expect(await core.call(5, 'retry', 'jid', 'q', 'w', 10)).toBe(4);
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('scheduled');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-scheduled')).toEqual([['jid', '15']]);
  });

  it('records a failure when group and message are given, even without exhaustion', async () => {
    await running('jid');
    expect(await core.call(5.5, 'retry', 'jid', 'q', 'w', 0, 'grp', 'flaky')).toBe(4);
    expect(await failure('jid')).toEqual({ group: 'grp', message: 'flaky', when: 5, worker: 'w' });
    expect(await ctx.redis.exists('ql:failures')).toBe(0);
  });

  it.skipIf(compactLayout)('fails the job when retries run out: default group and message, unfloored when, empty worker', async () => {
    await running('jid', 0, 'retries', 0);
    expect(await core.call(7.5, 'retry', 'jid', 'q', 'w')).toBe(-1);
    const job = await hash('jid');
    expect(job).toMatchObject({ state: 'failed', worker: '', expires: '', remaining: '-1' });
    expect(await failure('jid')).toEqual({ group: 'failed-retries-q', message: 'Job exhausted retries in queue "q"', when: 7.5, worker: '' });
    expect((await history('jid'))[2]).toBe('[7,"failed",{"group":"failed-retries-q"}]');
    expect(await ctx.redis.lrange('ql:f:failed-retries-q', 0, -1)).toEqual(['jid']);
    expect(await ctx.redis.smembers('ql:failures')).toEqual(['failed-retries-q']);
    expect(await ctx.redis.hgetall('ql:s:stats:0:q')).toEqual({ failures: '1', failed: '1' });
  });

  it('on exhaustion uses the caller\'s group, and their message only together with it', async () => {
    await put(0, 'a', 'retries', 0);
    await put(0, 'b', 'retries', 0);
    await pop(0, 2);
    await core.call(8.5, 'retry', 'a', 'q', 'w', 0, 'mine');
    expect(await failure('a')).toEqual({ group: 'mine', message: 'Job exhausted retries in queue "q"', when: 8.5, worker: '' });
    await core.call(8.5, 'retry', 'b', 'q', 'w', 0, 'mine', 'gave up');
    expect(await failure('b')).toEqual({ group: 'mine', message: 'gave up', when: 8, worker: 'w' });
    expect(await ctx.redis.lrange('ql:f:mine', 0, -1)).toEqual(['b', 'a']);
  });

  it('runs out after retries + 1 attempts', async () => {
    await running('jid', 0, 'retries', 2);
    expect(await core.call(1, 'retry', 'jid', 'q', 'w')).toBe(1);
    await pop(2);
    expect(await core.call(3, 'retry', 'jid', 'q', 'w')).toBe(0);
    await pop(4);
    expect(await core.call(5, 'retry', 'jid', 'q', 'w')).toBe(-1);
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('failed');
  });

  it('a fractional remaining (stored by an older core; put now refuses 1.5) is refused by Redis before anything changes', async () => {
    await running('jid', 0);
    await ctx.redis.hset('ql:j:jid', 'retries', '1.5', 'remaining', '1.5');
    const before = await snapshot(ctx.redis);
    await expect(core.call(1, 'retry', 'jid', 'q', 'w')).rejects.toThrow('hash value is not an integer');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('into another queue splits the job\'s location from its hash (quirk)', async () => {
    await running('jid', 0, 'retries', 1);
    await core.call(1, 'retry', 'jid', 'elsewhere', 'w');
    expect(await ctx.redis.hget('ql:j:jid', 'queue')).toBe('q');
    expect(await ctx.redis.zrange('ql:q:elsewhere-work', 0, -1)).toEqual(['jid']);
    await core.call(2, 'pop', 'elsewhere', 'w', 1);
    await expect(core.call(3, 'complete', 'jid', 'w', 'elsewhere', '{}')).rejects.toThrow('Complete(): Job jid running in another queue: q');
    // Exhaustion: group and stats use the argument, the message the job's own queue.
    expect(await core.call(4, 'retry', 'jid', 'elsewhere', 'w')).toBe(-1);
    expect(await failure('jid')).toEqual({ group: 'failed-retries-elsewhere', message: 'Job exhausted retries in queue "q"', when: 4, worker: '' });
    expect(await ctx.redis.hgetall('ql:s:stats:0:elsewhere')).toEqual({ failures: '1', failed: '1' });
  });
});

describe('unfail', () => {
  async function failThree(): Promise<void> {
    for (const jid of ['a', 'b', 'c']) await put(0, jid, 'retries', 2);
    await pop(0, 3);
    for (const [i, jid] of ['a', 'b', 'c'].entries()) await core.call(1 + i, 'fail', jid, 'w', 'grp', 'm');
  }

  it('validates', async () => {
    await failThree();
    const before = await snapshot(ctx.redis);
    await expect(core.call(5, 'unfail')).rejects.toThrow('Queue(): no queue name provided');
    await expect(core.call(5, 'unfail', 'q')).rejects.toThrow('Unfail(): Arg "group" missing');
    await expect(core.call(5, 'unfail', 'q', 'grp', 'x')).rejects.toThrow('Unfail(): Arg "count" not a number: x');
    await expect(core.call(5, 'unfail', 'q', 'grp', 0)).rejects.toThrow('value is not an integer or out of range');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it.skipIf(compactLayout)('moves the oldest failures to waiting in the given queue', async () => {
    await failThree();
    await ctx.redis.hset('ql:j:a', 'remaining', '0');
    expect(await core.call(10, 'unfail', 'q2', 'grp', 2)).toBe(2);
    expect(await ctx.redis.lrange('ql:f:grp', 0, -1)).toEqual(['c']);
    const a = await hash('a');
    expect(a).toMatchObject({ state: 'waiting', worker: '', expires: '0', queue: 'q2', remaining: '2', time: '0.00000000000000000000' });
    expect(JSON.parse(a.failure!)).toMatchObject({ group: 'grp' }); // not cleared
    expect((await history('a')).at(-1)).toBe('[10,"put",{"q":"q2"}]');
    expect(await ctx.redis.zrevrange('ql:q:q2-work', 0, -1)).toEqual(['b', 'a']);
    expect(await ctx.redis.zscore('ql:queues', 'q2')).toBeNull();
    expect(await ctx.redis.hget('ql:s:stats:0:q', 'failed')).toBe('3');
    expect(await ctx.redis.smembers('ql:failures')).toEqual(['grp']);
    expect(await core.call(11, 'unfail', 'q2', 'grp')).toBe(1);
    expect(await ctx.redis.exists('ql:f:grp', 'ql:failures')).toBe(0);
    expect(await core.call(12, 'unfail', 'q2', 'grp')).toBe(0);
  });

  it.skipIf(compactLayout)('uses 5 remaining when the job has no retries field', async () => {
    await failThree();
    await ctx.redis.hdel('ql:j:a', 'retries');
    await core.call(10, 'unfail', 'q', 'grp', 3);
    expect(await ctx.redis.hget('ql:j:a', 'remaining')).toBe('5');
  });

  it('refuses, before writing, a group list that names a deleted job', async () => {
    await failThree();
    await ctx.redis.del('ql:j:b');
    const before = await snapshot(ctx.redis);
    await expect(core.call(10, 'unfail', 'q', 'grp', 3)).rejects.toThrow('Unfail(): Job b does not exist');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });
});

describe('failed', () => {
  it('lists groups with their sizes, or {}', async () => {
    expect(await core.call(0, 'failed')).toBe('{}');
    await put(0, 'a');
    await put(0, 'b');
    await put(0, 'c');
    await pop(0, 3);
    await core.call(1, 'fail', 'a', 'w', 'grp', 'm');
    await core.call(2, 'fail', 'b', 'w', 'grp', 'm');
    await core.call(3, 'fail', 'c', 'w', 'other', 'm');
    expect(JSON.parse((await core.call(4, 'failed')) as string)).toEqual({ grp: 2, other: 1 });
  });

  it('pages through one group, newest first, returning jids', async () => {
    for (const jid of ['a', 'b', 'c']) await put(0, jid);
    await pop(0, 3);
    for (const [i, jid] of ['a', 'b', 'c'].entries()) await core.call(1 + i, 'fail', jid, 'w', 'grp', 'm');
    expect(JSON.parse((await core.call(5, 'failed', 'grp')) as string)).toEqual({ total: 3, jobs: ['c', 'b', 'a'] });
    expect(JSON.parse((await core.call(5, 'failed', 'grp', 1, 1)) as string)).toEqual({ total: 3, jobs: ['b'] });
    expect(JSON.parse((await core.call(5, 'failed', 'grp', 0, 0)) as string)).toEqual({ total: 3, jobs: ['c', 'b', 'a'] });
    expect(await core.call(5, 'failed', 'grp', 1, 0)).toMatch(/"jobs":\{\}/);
    const unknown = (await core.call(5, 'failed', 'nope')) as string;
    expect(unknown).toMatch(/"jobs":\{\}/);
    expect(JSON.parse(unknown)).toEqual({ total: 0, jobs: {} });
  });

  it('validates start and limit', async () => {
    await expect(core.call(0, 'failed', 'g', 'x')).rejects.toThrow('Failed(): Arg "start" is not a number: x');
    await expect(core.call(0, 'failed', 'g', 0, 'y')).rejects.toThrow('Failed(): Arg "limit" is not a number: y');
  });
});
