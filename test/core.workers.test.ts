import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { dataKeys, snapshot, zsetWithScores } from './support/raw.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

/** Register a worker (last seen `seen`) holding jids with the given lock expiries. */
async function worker(name: string, seen: number, locks: Record<string, number> = {}): Promise<void> {
  await ctx.redis.zadd('ql:workers', seen, name);
  for (const [jid, expires] of Object.entries(locks)) await ctx.redis.zadd(`ql:w:${name}:jobs`, expires, jid);
}

describe('workers listing', () => {
  it('is {} when nobody is registered, and empty parts for an unknown worker', async () => {
    expect(await core.call(0, 'workers')).toBe('{}');
    const reply = (await core.call(0, 'workers', 'nobody')) as string;
    expect(JSON.parse(reply)).toEqual({ stalled: {}, jobs: {} });
    expect(reply).toMatch(/"stalled":\{\}/);
    expect(reply).toMatch(/"jobs":\{\}/);
  });

  it('follows the spec example (written by hand)', async () => {
    // w1 popped b at 10 (expiry 70), w2 popped another job at 20 (expiry 80).
    await worker('w1', 10, { b: 70 });
    await worker('w2', 20, { c: 80 });
    expect(await core.json(70, 'workers')).toEqual([
      { stalled: 0, name: 'w2', jobs: 1 },
      { stalled: 1, name: 'w1', jobs: 1 },
    ]);
    expect(await core.json(70, 'workers', 'w1')).toEqual({ stalled: ['b'], jobs: ['b'] });
    expect(await core.json(75, 'workers', 'w1')).toEqual({ stalled: ['b'], jobs: {} });
  });

  it('orders workers by last seen (latest first), ties in reverse byte order', async () => {
    await worker('a', 5);
    await worker('c', 5);
    await worker('b', 5);
    await worker('z', 1);
    await worker('y', 9);
    const names = (await core.json<Array<{ name: string }>>(10, 'workers')).map((w) => w.name);
    expect(names).toEqual(['y', 'c', 'b', 'a', 'z']);
  });

  it('counts and lists with inclusive bounds [now, now + 8640000] and [0, now]', async () => {
    await worker('w', 100, {
      atNow: 100,
      soon: 150,
      horizon: 100 + 8640000,
      beyond: 100 + 8640001,
      past: 50,
      zero: 0,
      negative: -5,
    });
    expect(await core.json(100, 'workers')).toEqual([{ name: 'w', jobs: 3, stalled: 3 }]);
    expect(await core.json(100, 'workers', 'w')).toEqual({
      jobs: ['horizon', 'soon', 'atNow'],
      stalled: ['atNow', 'past', 'zero'],
    });
  });

  it('lists jobs with equal expiry in reverse jid byte order', async () => {
    await worker('w', 0, { a: 10, c: 10, b: 10, d: 20, e: 5, f: 5 });
    expect(await core.json(10, 'workers', 'w')).toEqual({ jobs: ['d', 'c', 'b', 'a'], stalled: ['c', 'b', 'a', 'f', 'e'] });
  });

  it('shows job sets of workers that are not registered (after deregistration)', async () => {
    await ctx.redis.zadd('ql:w:ghost:jobs', 50, 'j');
    expect(await core.json(10, 'workers', 'ghost')).toEqual({ jobs: ['j'], stalled: {} });
    expect(await core.call(10, 'workers')).toBe('{}');
  });

  it('uses the worker name literally (empty name included)', async () => {
    await ctx.redis.zadd('ql:w::jobs', 50, 'j');
    expect(await core.json(10, 'workers', '')).toEqual({ jobs: ['j'], stalled: {} });
  });

  it('publishes nothing', async () => {
    await worker('old', 0, { j: 1 });
    await worker('w', 100000, { j: 1 });
    await core.call(100000, 'workers');
    await core.call(100000, 'workers', 'w');
    await core.call(100000, 'worker.deregister', 'w');
    expect(await events.settle()).toEqual([]);
  });
});

describe('workers: pruning by max-worker-age', () => {
  it('prunes workers last seen in [0, now - 86400] by default, deleting their job sets', async () => {
    await worker('old', 1000, { a: 2000 });
    await worker('edge', 1001, { b: 2000 });
    await worker('fresh', 1002, { c: 2000 });
    await worker('never', -1, { d: 2000 });
    const now = 1001 + 86400;
    expect((await core.json<Array<{ name: string }>>(now, 'workers')).map((w) => w.name)).toEqual(['fresh', 'never']);
    expect(await ctx.redis.exists('ql:w:old:jobs', 'ql:w:edge:jobs')).toBe(0);
    expect(await ctx.redis.exists('ql:w:fresh:jobs', 'ql:w:never:jobs')).toBe(2);
    expect(await zsetWithScores(ctx.redis, 'ql:workers')).toEqual([['never', '-1'], ['fresh', '1002']]);
  });

  it('prunes before answering about a single worker', async () => {
    await worker('old', 0, { a: 1000000 });
    expect(await core.json(86400, 'workers', 'old')).toEqual({ jobs: {}, stalled: {} });
    expect(await ctx.redis.exists('ql:workers', 'ql:w:old:jobs')).toBe(0);
  });

  it('uses the stored max-worker-age (Lua-numeric), read at each call', async () => {
    await worker('a', 10);
    await worker('b', 20);
    await core.call(0, 'config.set', 'max-worker-age', '0x0a');
    expect((await core.json<Array<{ name: string }>>(25, 'workers')).map((w) => w.name)).toEqual(['b']);
    await core.call(0, 'config.set', 'max-worker-age', 100);
    await worker('a', 10);
    expect((await core.json<Array<{ name: string }>>(25, 'workers')).map((w) => w.name)).toEqual(['b', 'a']);
  });

  it('with age 0 prunes every worker seen at or before now, never negative times', async () => {
    await core.call(0, 'config.set', 'max-worker-age', 0);
    await worker('past', 5);
    await worker('now', 10);
    await worker('future', 11);
    await worker('negative', -3);
    expect((await core.json<Array<{ name: string }>>(10, 'workers')).map((w) => w.name)).toEqual(['future', 'negative']);
  });

  it('with a negative age prunes workers seen up to now + |age|', async () => {
    await core.call(0, 'config.set', 'max-worker-age', -5);
    await worker('a', 14);
    await worker('b', 16);
    expect((await core.json<Array<{ name: string }>>(10, 'workers')).map((w) => w.name)).toEqual(['b']);
  });

  it('reads a max-worker-age that is not a number (written by another client) as the default day', async () => {
    await ctx.redis.hset('ql:config', 'max-worker-age', 'abc');
    await worker('a', 10);
    await worker('b', 86410);
    expect((await core.json<Array<{ name: string }>>(86410, 'workers')).map((w) => w.name)).toEqual(['b']);
  });

  it('prunes thousands of workers', async () => {
    const args: Array<string | number> = [];
    for (let i = 0; i < 2500; i++) args.push(i % 7, `w${i}`);
    await ctx.redis.zadd('ql:workers', ...args);
    const pipeline = ctx.redis.pipeline();
    for (let i = 0; i < 2500; i++) pipeline.zadd(`ql:w:w${i}:jobs`, 1, 'j');
    await pipeline.exec();
    await worker('keep', 90000);
    expect(await core.json(90000, 'workers')).toEqual([{ name: 'keep', jobs: 0, stalled: 0 }]);
    // Only ql:workers (holding `keep`) is left.
    expect(await dataKeys(ctx.redis)).toEqual(['ql:workers']);
  });
});

describe('worker.deregister', () => {
  it('removes names from ql:workers only and ignores unknown names', async () => {
    await worker('a', 1, { j: 100 });
    await worker('b', 2, { k: 100 });
    expect(await core.call(5, 'worker.deregister', 'a', 'nobody')).toBeNull();
    expect(await zsetWithScores(ctx.redis, 'ql:workers')).toEqual([['b', '2']]);
    expect(await zsetWithScores(ctx.redis, 'ql:w:a:jobs')).toEqual([['j', '100']]);
    expect(await core.json(5, 'workers', 'a')).toEqual({ jobs: ['j'], stalled: {} });
    // Never pruned afterwards either: pruning only looks at ql:workers.
    await core.call(1000000, 'workers');
    expect(await ctx.redis.exists('ql:w:a:jobs')).toBe(1);
  });

  it('fails with Redis’s own error when no name is given', async () => {
    await worker('a', 1);
    const before = await snapshot(ctx.redis);
    await expect(core.call(0, 'worker.deregister')).rejects.toThrow('Wrong number of args calling Redis command from script');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('handles thousands of names', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `w${i}`);
    await ctx.redis.zadd('ql:workers', ...names.flatMap((n) => [1, n]));
    await worker('stay', 1);
    expect(await core.call(5, 'worker.deregister', ...names)).toBeNull();
    expect(await ctx.redis.zrange('ql:workers', 0, -1)).toEqual(['stay']);
  });
});


describe('workers with job commands', () => {
  it('follows the spec example with real pops', async () => {
    await core.call(0, 'put', 'x', 'q', 'b', 'k', '{}', 0);
    await core.call(1, 'put', 'x', 'q', 'c', 'k', '{}', 0);
    await core.call(10, 'pop', 'q', 'w1', 1);
    await core.call(20, 'pop', 'q', 'w2', 1);
    expect(await core.json(70, 'workers')).toEqual([
      { stalled: 0, name: 'w2', jobs: 1 },
      { stalled: 1, name: 'w1', jobs: 1 },
    ]);
    expect(await core.json(70, 'workers', 'w1')).toEqual({ stalled: ['b'], jobs: ['b'] });
    expect(await core.json(75, 'workers', 'w1')).toEqual({ stalled: ['b'], jobs: {} });
  });

  it('registers on every pop (even empty) and heartbeat, not on put, complete or peek', async () => {
    await core.call(1, 'pop', 'q', 'idle', 0);
    await core.call(2, 'pop', 'q', 'empty', 5);
    await core.call(3, 'put', 'putter', 'q', 'j', 'k', '{}', 0);
    await core.call(3, 'peek', 'q', 5);
    await core.call(4, 'pop', 'q', 'w', 1);
    await core.call(6, 'heartbeat', 'j', 'w');
    await core.call(7, 'complete', 'j', 'w', 'q', '{}');
    expect(await zsetWithScores(ctx.redis, 'ql:workers')).toEqual([['idle', '1'], ['empty', '2'], ['w', '6']]);
    expect(await core.json(8, 'workers')).toEqual([
      { name: 'w', jobs: 0, stalled: 0 },
      { name: 'empty', jobs: 0, stalled: 0 },
      { name: 'idle', jobs: 0, stalled: 0 },
    ]);
  });

  it('keeps a timed-out job in the old worker set (jobs, then stalled)', async () => {
    await core.call(0, 'put', 'x', 'q', 'j', 'k', '{}', 0);
    await core.call(0, 'pop', 'q', 'w1', 1);
    await core.call(5, 'timeout', 'j');
    await core.call(6, 'pop', 'q', 'w2', 1);
    await core.call(7, 'complete', 'j', 'w2', 'q', '{}');
    expect(await core.json(10, 'workers', 'w1')).toEqual({ jobs: ['j'], stalled: {} });
    expect(await core.json(61, 'workers', 'w1')).toEqual({ jobs: {}, stalled: ['j'] });
  });

  it('a deregistered worker reappears on its next pop', async () => {
    await core.call(0, 'pop', 'q', 'w', 1);
    await core.call(1, 'worker.deregister', 'w');
    expect(await core.call(1, 'workers')).toBe('{}');
    await core.call(2, 'pop', 'q', 'w', 1);
    expect(await core.json(2, 'workers')).toEqual([{ name: 'w', jobs: 0, stalled: 0 }]);
  });
});
