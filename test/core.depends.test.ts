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
const putDelayed = (now: number, jid: string, delay: number, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', delay, ...rest);
const state = (jid: string) => ctx.redis.hget(`ql:j:${jid}`, 'state');
const deps = async (jid: string) => (await ctx.redis.smembers(`ql:j:${jid}-dependencies`)).sort();
const dependents = async (jid: string) => (await ctx.redis.smembers(`ql:j:${jid}-dependents`)).sort();
/** Pop `jid` (it must be the best waiting job) and complete it at `now`. */
async function finish(now: number, jid: string): Promise<void> {
  const popped = JSON.parse((await core.call(now, 'pop', 'q', 'w', 1)) as string) as Array<{ jid: string }>;
  expect(popped.map((j) => j.jid)).toEqual([jid]);
  await core.call(now, 'complete', jid, 'w', 'q', '{}');
}

describe('put with depends', () => {
  it('links live jobs on both sides and parks the job in depends', async () => {
    await put(0, 'a');
    await put(0, 'b', 'priority', -1);
    await put(3, 'c', 'depends', '["a","b"]');
    expect(await state('c')).toBe('depends');
    expect(await deps('c')).toEqual(['a', 'b']);
    expect(await dependents('a')).toEqual(['c']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-depends')).toEqual([['c', '3']]);
    expect(await ctx.redis.zscore('ql:q:q-work', 'c')).toBeNull();
    const job = JSON.parse((await core.call(3, 'get', 'c')) as string) as { dependencies: string[] };
    expect(job.dependencies.sort()).toEqual(['a', 'b']);
  });

  it('treats missing and completed jobs as satisfied', async () => {
    await put(0, 'done');
    await finish(1, 'done');
    await put(2, 'jid', 'depends', '["done","missing"]');
    expect(await state('jid')).toBe('waiting');
    expect(await ctx.redis.exists('ql:j:jid-dependencies', 'ql:j:done-dependents')).toBe(0);
  });

  it('failed and running jobs are real dependencies', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await core.call(0, 'pop', 'q', 'w', 2);
    await core.call(1, 'fail', 'a', 'w', 'g', 'm');
    await put(2, 'c', 'depends', '["a","b"]');
    expect(await deps('c')).toEqual(['a', 'b']);
  });

  it.skipIf(compactLayout)('releases a dependent to waiting only when its last dependency completes', async () => {
    await put(0, 'a', 'priority', 2);
    await put(0, 'b', 'priority', 1);
    await put(1, 'c', 'priority', 5, 'depends', '["a","b"]');
    await finish(10, 'a');
    expect(await state('c')).toBe('depends');
    expect(await deps('c')).toEqual(['b']);
    expect(await ctx.redis.exists('ql:j:a-dependents')).toBe(0);
    await finish(20, 'b');
    expect(await state('c')).toBe('waiting');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['c', '4.9999999979999998']]);
    expect(await ctx.redis.exists('ql:q:q-depends', 'ql:j:c-dependencies', 'ql:j:b-dependents')).toBe(0);
    // Releases append no history.
    expect(await ctx.redis.lrange('ql:j:c-history', 0, -1)).toEqual(['[1,"put",{"q":"q"}]']);
  });

  it('with a delay keeps the absolute ready time and releases into the schedule', async () => {
    await put(0, 'a');
    await putDelayed(0, 'b', 30, 'depends', '["a"]');
    expect(await state('b')).toBe('depends');
    expect(await ctx.redis.hget('ql:j:b', 'scheduled')).toBe('30');
    expect(await ctx.redis.exists('ql:q:q-scheduled')).toBe(0);
    await finish(10, 'a');
    expect(await state('b')).toBe('scheduled');
    expect(await ctx.redis.hget('ql:j:b', 'scheduled')).toBeNull();
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-scheduled')).toEqual([['b', '30']]);
  });

  it('a release whose ready time has passed is promoted at the next check', async () => {
    await put(0, 'a');
    await putDelayed(0, 'b', 5, 'depends', '["a"]');
    await finish(10, 'a');
    expect(await state('b')).toBe('scheduled');
    expect(JSON.parse((await core.call(11, 'peek', 'q', 1)) as string)[0]).toMatchObject({ jid: 'b', state: 'waiting' });
  });

  it('a failed or advanced dependency does not release', async () => {
    await put(0, 'a');
    await put(0, 'b', 'priority', -1);
    await put(1, 'c', 'depends', '["a"]');
    await put(1, 'd', 'depends', '["b"]');
    await core.call(2, 'pop', 'q', 'w', 2);
    await core.call(3, 'fail', 'a', 'w', 'g', 'm');
    await core.call(3, 'complete', 'b', 'w', 'q', '{}', 'next', 'q2');
    expect([await state('c'), await state('d')]).toEqual(['depends', 'depends']);
  });

  it('a re-put without depends keeps old dependencies; a non-empty list replaces them', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(1, 'c', 'depends', '["a"]');
    await put(2, 'c');
    expect(await state('c')).toBe('depends');
    await put(3, 'c', 'depends', '[]');
    expect(await deps('c')).toEqual(['a']);
    await put(4, 'c', 'depends', '["b"]');
    expect(await deps('c')).toEqual(['b']);
    expect(await ctx.redis.exists('ql:j:a-dependents')).toBe(0);
    expect(await dependents('b')).toEqual(['c']);
  });

  it('an empty depends object is an empty list; one with keys is refused', async () => {
    await put(0, 'a');
    await put(1, 'b', 'depends', '{}');
    expect(await state('b')).toBe('waiting');
    await rejects(() => put(2, 'c', 'depends', '{"a":1}'), 'Put(): Arg "depends" not JSON: {"a":1} (must be a JSON array)');
  });
});

/** Expect the call to fail with `message` and leave the database untouched. */
async function rejects(call: () => Promise<unknown>, message: string): Promise<void> {
  const before = await snapshot(ctx.redis);
  await expect(call()).rejects.toThrow(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

// A job that waits for itself, directly or around a cycle, waits forever (the
// reference linked it and only cancel got it out): refused before any write.
describe('dependencies that would never be met', () => {
  it('refuses a job that depends on itself: put (new or re-put), depends on, complete next', async () => {
    await rejects(() => put(0, 'me', 'depends', '["me"]'), 'Put(): Job me may not depend on itself');
    await put(0, 'other');
    await put(1, 'me', 'depends', '["other"]');
    await rejects(() => put(2, 'me', 'depends', '["other","me"]'), 'Put(): Job me may not depend on itself');
    await rejects(() => core.call(2, 'depends', 'me', 'on', 'me'), 'Depends(): Job me may not depend on itself');
    await put(3, 'runner', 'priority', 5);
    await core.call(3, 'pop', 'q', 'w', 1);
    await rejects(() => core.call(4, 'complete', 'runner', 'w', 'q', '{}', 'next', 'q2', 'depends', '["runner"]'),
      'Complete(): Job runner may not depend on itself');
    // A number in the list names the same jid.
    await put(5, '7');
    await rejects(() => put(6, '7', 'depends', '[7]'), 'Put(): Job 7 may not depend on itself');
  });

  it('refuses a cycle made by depends on, directly or through other jobs', async () => {
    await put(0, 'x');
    await put(1, 'a', 'depends', '["x"]');
    await put(2, 'b', 'depends', '["a"]');
    await put(3, 'c', 'depends', '["b"]');
    await rejects(() => core.call(4, 'depends', 'a', 'on', 'b'), 'Depends(): Job a may not depend on b, which waits for it');
    await rejects(() => core.call(4, 'depends', 'a', 'on', 'x', 'c'), 'Depends(): Job a may not depend on c, which waits for it');
    await rejects(() => core.call(4, 'depends', 'b', 'on', 'c'), 'Depends(): Job b may not depend on c, which waits for it');
  });

  it('refuses a cycle made by a re-put with depends, or by complete next with depends', async () => {
    await put(0, 'a');
    await put(1, 'b', 'depends', '["a"]');
    await put(2, 'c', 'depends', '["b"]');
    await rejects(() => put(3, 'a', 'depends', '["c"]'), 'Put(): Job a may not depend on c, which waits for it');
    await rejects(() => put(3, 'a', 'depends', '["missing","b"]'), 'Put(): Job a may not depend on b, which waits for it');
    await core.call(4, 'pop', 'q', 'w', 1);
    await rejects(() => core.call(5, 'complete', 'a', 'w', 'q', '{}', 'next', 'q2', 'depends', '["c"]'),
      'Complete(): Job a may not depend on c, which waits for it');
    await rejects(() => core.call(5, 'complete', 'a', 'w', 'q', '{}', 'next', 'q2', 'delay', 10, 'depends', '["b"]'),
      'Complete(): Job a may not depend on b, which waits for it');
  });

  it('accepts what is not a cycle: a diamond, a chain extended at its head, a finished link', async () => {
    await put(0, 'a');
    await put(1, 'b', 'depends', '["a"]');
    await put(1, 'c', 'depends', '["a"]');
    await put(2, 'd', 'depends', '["b","c"]');
    expect(await core.call(3, 'depends', 'c', 'on', 'b')).toBe(1);
    expect(await deps('c')).toEqual(['a', 'b']);
    await put(4, 'e');
    expect(await put(5, 'a', 'depends', '["e"]')).toBe('a');
    expect(await deps('a')).toEqual(['e']);
    // g waited for f until f completed: that link is gone, so f, put again,
    // may wait for g.
    await put(6, 'f', 'priority', 9);
    await put(6, 'g', 'depends', '["f"]');
    await finish(7, 'f');
    expect(await state('g')).toBe('waiting');
    expect(await put(8, 'f', 'depends', '["g"]')).toBe('f');
    expect(await state('f')).toBe('depends');
  });

  it('refuses jids that end in a reserved suffix in a depends list', async () => {
    await put(0, 'a');
    for (const suffix of ['-history', '-dependents', '-dependencies']) {
      await rejects(() => put(1, 'b', 'depends', `["a","r${suffix}"]`),
        `Put(): Arg "depends" may not hold a jid ending in "${suffix}": r${suffix}`);
    }
    await put(1, 'b', 'depends', '["a"]');
    await rejects(() => core.call(2, 'depends', 'b', 'on', 'a-history'), 'Depends(): Arg "jid" may not end in "-history": a-history');
  });
});

describe('depends command', () => {
  it('validates: jid, command word, state (missing job shows false), then the word', async () => {
    await put(0, 'a');
    await put(1, 'b', 'depends', '["a"]');
    const before = await snapshot(ctx.redis);
    await expect(core.call(2, 'depends')).rejects.toThrow('Job(): no jid provided');
    await expect(core.call(2, 'depends', 'b')).rejects.toThrow('Depends(): Arg "command" missing');
    await expect(core.call(2, 'depends', 'a', 'on', 'x')).rejects.toThrow('Depends(): Job a not in the depends state: waiting');
    await expect(core.call(2, 'depends', 'nope', 'on')).rejects.toThrow('Depends(): Job nope not in the depends state: false');
    await expect(core.call(2, 'depends', 'a', 'sideways')).rejects.toThrow('not in the depends state: waiting');
    await expect(core.call(2, 'depends', 'b', 'sideways')).rejects.toThrow('Depends(): Argument "command" must be "on" or "off"');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('on: links live jobs, ignores missing and complete ones, returns 1', async () => {
    await put(0, 'a');
    await put(0, 'x', 'priority', 9);
    await finish(0, 'x');
    await put(0, 'b');
    await put(1, 'c', 'depends', '["a"]');
    expect(await core.call(2, 'depends', 'c', 'on', 'b', 'x', 'missing')).toBe(1);
    expect(await deps('c')).toEqual(['a', 'b']);
    expect(await dependents('b')).toEqual(['c']);
    expect(await core.call(2, 'depends', 'c', 'on')).toBe(1);
  });

  it('off: unlinks listed jids and moves the job to waiting when none are left', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(1, 'c', 'priority', 3, 'depends', '["a","b"]');
    expect(await core.call(2, 'depends', 'c', 'off', 'a', 'unrelated')).toBe(1);
    expect(await state('c')).toBe('depends');
    expect(await core.call(2, 'depends', 'c', 'off')).toBe(1);
    expect(await state('c')).toBe('depends');
    await core.call(5, 'depends', 'c', 'off', 'b');
    expect(await state('c')).toBe('waiting');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['a', '0'], ['b', '0'], ['c', '2.9999999995']]);
    expect(await ctx.redis.exists('ql:q:q-depends', 'ql:j:a-dependents', 'ql:j:b-dependents')).toBe(0);
  });

  it('off all: unlinks everything and moves the job to waiting', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(1, 'c', 'depends', '["a","b"]');
    await core.call(2, 'depends', 'c', 'off', 'all');
    expect(await state('c')).toBe('waiting');
    expect(await ctx.redis.exists('ql:j:c-dependencies', 'ql:j:a-dependents', 'ql:j:b-dependents')).toBe(0);
  });

  it('"all" is only special as the first jid', async () => {
    await put(0, 'a');
    await put(1, 'c', 'depends', '["a"]');
    await core.call(2, 'depends', 'c', 'off', 'x', 'all');
    expect(await state('c')).toBe('depends');
  });

  it('off ignores a pending delay, and the stale scheduled field comes back at the next release (quirk)', async () => {
    await put(0, 'a');
    await putDelayed(0, 'c', 100, 'depends', '["a"]');
    await core.call(1, 'depends', 'c', 'off', 'all');
    expect(await state('c')).toBe('waiting');
    expect(await ctx.redis.hget('ql:j:c', 'scheduled')).toBe('100');
    await put(2, 'c', 'depends', '["a"]');
    expect(await state('c')).toBe('depends');
    await finish(3, 'a');
    expect(await state('c')).toBe('scheduled');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-scheduled')).toEqual([['c', '100']]);
  });
});
