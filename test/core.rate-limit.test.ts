/**
 * Rate limits in the core: `<queue>-rate-limit` starts in any
 * `<queue>-rate-window` seconds (default 1), enforced by pop across all
 * callers; qless-core's `pop` replies as for an empty queue, qless-ts's
 * `pop.raw` with the pair `wait`, seconds until the next start is allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot } from './support/raw.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

const putMany = async (now: number, n: number, queue = 'q') => {
  for (let i = 0; i < n; i++) await core.call(now + i * 0.001, 'put', 'w', queue, `j${i}`, 'k', '{}', 0);
};
const pop = async (now: number, count: number, worker = 'w', queue = 'q'): Promise<string[]> => {
  const reply = await core.call(now, 'pop', queue, worker, count);
  return reply === '{}' ? [] : (JSON.parse(reply as string) as Array<{ jid: string }>).map((j) => j.jid);
};

describe('rate limits', () => {
  it('the options are numbers: config.set refuses anything else, writing nothing', async () => {
    const before = await snapshot(ctx.redis);
    await expect(core.call(0, 'config.set', 'q-rate-limit', 'five')).rejects.toThrow('config.set(): Arg "value" for "q-rate-limit" not a number: five');
    await expect(core.call(0, 'config.set', 'q-rate-window', '1s')).rejects.toThrow('not a number: 1s');
    await expect(core.call(0, 'config.set', 'q-max-pop-retry', 'x')).rejects.toThrow('not a number: x');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('at most `limit` starts in any window; the jobs over it stay waiting with their retries', async () => {
    await putMany(0, 5);
    await core.call(0, 'config.set', 'q-rate-limit', 2);
    expect(await pop(10, 5)).toHaveLength(2);
    expect(await pop(10.5, 5, 'other')).toEqual([]);
    const left = JSON.parse((await core.call(10.5, 'peek', 'q', 5)) as string) as Array<{ state: string; remaining: number }>;
    expect(left.map((j) => [j.state, j.remaining])).toEqual([['waiting', 5], ['waiting', 5], ['waiting', 5]]);
    // The window slides: the starts at 10 leave it at 11.
    expect(await pop(10.99, 5)).toEqual([]);
    expect(await pop(11, 5)).toHaveLength(2);
    expect(await pop(11.5, 5)).toEqual([]);
    expect(await pop(12, 5)).toHaveLength(1);
  });

  it('pop.raw says how long until the next start; pop replies as for an empty queue', async () => {
    await putMany(0, 4);
    await core.call(0, 'config.set', 'q-rate-limit', 1);
    await core.call(0, 'config.set', 'q-rate-window', 2);
    expect(await pop(10, 1)).toHaveLength(1);
    expect(await core.call(10.5, 'pop', 'q', 'w', 1)).toBe('{}');
    expect(await core.call(10.5, 'pop.raw', 'q', 'w', 1)).toEqual(['wait', '1.5']);
    expect(await core.call(12, 'pop.raw', 'q', 'w', 1)).toHaveLength(1);
  });

  it('an empty rate-limited queue gets the usual empty reply', async () => {
    await putMany(0, 1);
    await core.call(0, 'config.set', 'q-rate-limit', 1);
    expect(await pop(10, 1)).toHaveLength(1);
    expect(await core.call(10.5, 'pop.raw', 'q', 'w', 1)).toEqual([]);
  });

  it('a queue without a limit writes nothing for it', async () => {
    await putMany(0, 2);
    await pop(1, 2);
    expect(await ctx.redis.exists('ql:q:q-starts')).toBe(0);
  });

  it('counts starts across workers and keeps its record only as long as a window', async () => {
    await putMany(0, 6);
    await core.call(0, 'config.set', 'q-rate-limit', 3);
    expect(await pop(5, 2, 'a')).toHaveLength(2);
    expect(await pop(5.1, 2, 'b')).toHaveLength(1);
    expect(await pop(5.2, 2, 'c')).toHaveLength(0);
    expect(await ctx.redis.ttl('ql:q:q-starts')).toBeLessThanOrEqual(2);
  });

  it('works with max-concurrency: each trims the count', async () => {
    await putMany(0, 6);
    await core.call(0, 'config.set', 'q-rate-limit', 5);
    await core.call(0, 'config.set', 'q-max-concurrency', 2);
    expect(await pop(1, 6)).toHaveLength(2);
  });
});
