import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot } from './support/raw.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

interface Timing { count: number; mean: number; std: number; histogram: number[] }
interface Stats { retries: number; failed: number; failures: number; wait: Timing; run: Timing }
const stats = async (date: number, queue = 'q') => JSON.parse((await core.call(0, 'stats', queue, date)) as string) as Stats;
const put = (now: number, jid: string) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0);
const histogramWith = (entries: Record<number, number>) => {
  const h = new Array<number>(148).fill(0);
  for (const [i, n] of Object.entries(entries)) h[Number(i)] = n;
  return h;
};

describe('stats', () => {
  it('validates queue and date', async () => {
    await expect(core.call(0, 'stats')).rejects.toThrow('Queue(): no queue name provided');
    await expect(core.call(0, 'stats', 'q')).rejects.toThrow('Stats(): Arg "date" missing or not a number: nil');
    await expect(core.call(0, 'stats', 'q', 'today')).rejects.toThrow('Stats(): Arg "date" missing or not a number: today');
  });

  it('is all zeros (148 histogram buckets) for an unknown day, and writes nothing', async () => {
    const before = await snapshot(ctx.redis);
    const empty = { count: 0, mean: 0, std: 0, histogram: histogramWith({}) };
    expect(await stats(0)).toEqual({ retries: 0, failed: 0, failures: 0, wait: empty, run: empty });
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('reproduces the spec example', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await core.call(2, 'pop', 'q', 'w', 1);     // b waited 2
    await core.call(3, 'pop', 'q', 'w', 1);     // a waited 3
    await core.call(10, 'complete', 'a', 'w', 'q', '{}'); // a ran 7
    await core.call(11, 'fail', 'b', 'w', 'grp', 'm');
    const text = (await core.call(0, 'stats', 'q', 500)) as string;
    expect(text).toContain('"std":0.70710678118655');
    expect(JSON.parse(text)).toEqual({
      retries: 0, failed: 1, failures: 1,
      wait: { count: 2, mean: 2.5, std: 0.70710678118655, histogram: histogramWith({ 2: 1, 3: 1 }) },
      run: { count: 1, mean: 7, std: 0, histogram: histogramWith({ 7: 1 }) },
    });
  });

  it('keeps a Welford running mean and variance', async () => {
    for (const [jid, waited] of [['a', 1], ['b', 2], ['c', 4]] as const) {
      await put(100 - waited, jid);
    }
    await core.call(100, 'pop', 'q', 'w', 3);
    expect(await ctx.redis.hmget('ql:s:wait:0:q', 'total', 'mean', 'vk')).toEqual(['3', '2.3333333333333335', '4.666666666666667']);
    expect((await stats(0)).wait).toMatchObject({ count: 3, mean: 2.3333333333333, std: 1.5275252316519 });
  });

  it('puts samples in the documented histogram buckets', async () => {
    const popAt = 11 * 86400 + 5000;
    const samples = [0.4, 59.99, 60, 3599.5, 3600, 86399, 86400, 700000];
    for (const [i, v] of samples.entries()) await put(popAt - v, `j${i}`);
    await core.call(popAt, 'pop', 'q', 'w', 10);
    const timing = (await stats(popAt)).wait;
    expect(timing.count).toBe(8);
    expect(timing.histogram).toEqual(histogramWith({ 0: 1, 59: 1, 60: 1, 118: 1, 119: 1, 141: 1, 142: 1 }));
    const raw = await ctx.redis.hgetall(`ql:s:wait:${11 * 86400}:q`);
    expect(Object.keys(raw).filter((k) => /^[smhd]\d+$/.test(k)).sort()).toEqual(['d1', 'd8', 'h1', 'h23', 'm1', 'm59', 's0', 's59']);
  });

  it('writes negative samples to an s-<n> field that is never reported', async () => {
    await put(10, 'jid');
    await core.call(6, 'pop', 'q', 'w', 1);
    expect(await ctx.redis.hget('ql:s:wait:0:q', 's-4')).toBe('1');
    const timing = (await stats(0)).wait;
    expect([timing.count, timing.mean, timing.histogram.every((n) => n === 0)]).toEqual([1, -4, true]);
  });

  it('reports the day bin containing date', async () => {
    await put(2 * 86400 + 10, 'jid');
    await core.call(2 * 86400 + 15, 'pop', 'q', 'w', 1);
    expect((await stats(2 * 86400 + 80000)).wait.count).toBe(1);
    expect((await stats(2 * 86400 - 1)).wait.count).toBe(0);
    expect(await ctx.redis.exists(`ql:s:wait:${2 * 86400}:q`)).toBe(1);
  });

  it('counts retries at the courtesy step and failed can go negative', async () => {
    await put(0, 'jid');
    await core.call(0, 'pop', 'q', 'w', 1);
    await core.call(60, 'pop', 'q', 'w2', 1);
    await core.call(70, 'pop', 'q', 'w2', 1);
    await core.call(80, 'fail', 'jid', 'w2', 'grp', 'm');
    await core.call(90, 'put', 'w', 'other', 'jid', 'k', '{}', 0);
    expect(await stats(0)).toMatchObject({ retries: 1, failures: 1, failed: 1 });
    expect(await stats(0, 'other')).toMatchObject({ retries: 0, failures: 0, failed: -1 });
  });
});
