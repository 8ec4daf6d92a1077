/**
 * Pops that keep failing: Redis refusing writes at `maxmemory`, and a core
 * error that lasts (a queue key of the wrong type). A child backs off (up to
 * --interval) instead of spinning, logs the error once per burst, and
 * resumes by itself once the cause is gone; a queue that fails does not
 * hold up the others. And an idle child, whose pops find nothing, sleeps.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { allComplete, coreCalls, FIXTURES, sleep, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** Error lines about pops, per child pid. */
function popErrors(worker: WorkerProcess): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of worker.logs) {
    if (line.level >= 50 && /pop/.test(line.msg)) counts.set(line.pid, (counts.get(line.pid) ?? 0) + 1);
  }
  return counts;
}

/** Let the children fail for `ms`, then check what they did meanwhile. */
async function failFor(worker: WorkerProcess, ms: number): Promise<{ calls: number; errors: Map<number, number> }> {
  await worker.started(2);
  await until(() => popErrors(worker).size === 2, 20_000, 'both children to fail a pop');
  await ctx.redis.config('RESETSTAT');
  const before = popErrors(worker);
  await sleep(ms);
  const calls = await coreCalls(ctx.redis);
  const errors = new Map([...popErrors(worker)].map(([pid, n]) => [pid, n - (before.get(pid) ?? 0)]));
  return { calls, errors };
}

describe('qless-ts-worker when pops keep failing', { timeout: 60_000 }, () => {
  it('Redis at maxmemory: backs off up to --interval, logs once, and carries on once writes are allowed again', async () => {
    const client = qless.client(ctx.url);
    const jids = [await client.queue('full').put('timing.WhoAmI', {}), await client.queue('full').put('timing.WhoAmI', {})];
    await ctx.redis.config('SET', 'maxmemory-policy', 'noeviction');
    await ctx.redis.config('SET', 'maxmemory', '1');
    try {
      const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'full', '-w', '2', '-i', '1']);
      const { calls, errors } = await failFor(worker, 5000);
      // Two children, each retrying at most once a second after a few quicker tries.
      console.log(`maxmemory, 5 s of failing pops with --workers 2 --interval 1: ${calls} core calls, error lines per child ${[...errors.values()].join(', ')}`);
      expect(calls).toBeLessThan(30);
      for (const n of errors.values()) expect(n).toBe(0);
      expect(worker.lines('could not pop; trying again with a growing delay, up to --interval')[0]?.['err']).toMatchObject({ message: expect.stringContaining('OOM') });
      await ctx.redis.config('SET', 'maxmemory', '0');
      await allComplete(client, jids, 20_000);
      const back = worker.lines('popping works again');
      expect(back.length).toBeGreaterThan(0);
      expect(Number(back[0]!['failures'])).toBeGreaterThan(1);
      expect(worker.lines('child died; replacing it')).toEqual([]);
    } finally {
      await ctx.redis.config('SET', 'maxmemory', '0');
    }
    await client.close();
  });

  it('a core error that lasts (a queue key of the wrong type): backs off, logs once, resumes when the key is fixed', async () => {
    const client = qless.client(ctx.url);
    const jids = [await client.queue('broken').put('timing.WhoAmI', {}), await client.queue('broken').put('timing.WhoAmI', {})];
    await ctx.redis.set('ql:q:broken-locks', 'not a sorted set');
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'broken', '-w', '2', '-i', '1']);
    const { calls, errors } = await failFor(worker, 5000);
    console.log(`wrong key type, 5 s of failing pops with --workers 2 --interval 1: ${calls} core calls, error lines per child ${[...errors.values()].join(', ')}`);
    expect(calls).toBeLessThan(30);
    for (const n of errors.values()) expect(n).toBe(0);
    expect(worker.lines('could not pop; trying again with a growing delay, up to --interval')[0]?.['err']).toMatchObject({ message: expect.stringContaining('WRONGTYPE') });
    await ctx.redis.del('ql:q:broken-locks');
    await allComplete(client, jids, 20_000);
    expect(worker.lines('popping works again').length).toBeGreaterThan(0);
    await client.close();
  });

  it('a queue whose pops keep failing does not hold up the other queues of the worker', async () => {
    const client = qless.client(ctx.url);
    const broken = [await client.queue('broken').put('timing.WhoAmI', {})];
    await ctx.redis.set('ql:q:broken-locks', 'not a sorted set');
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'broken', '-q', 'fine', '-w', '1', '-i', '1']);
    await worker.started(1);
    const fine: string[] = [];
    for (let i = 0; i < 5; i++) fine.push(await client.queue('fine').put('timing.WhoAmI', {}));
    await allComplete(client, fine, 20_000);
    expect(popErrors(worker).size).toBe(1);
    expect([...popErrors(worker).values()][0]).toBeLessThanOrEqual(2);
    await ctx.redis.del('ql:q:broken-locks');
    await allComplete(client, broken, 20_000);
    await client.close();
  });

  it('an idle child pops once per --interval, not in a loop', async () => {
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'idle', '-w', '1', '-i', '1']);
    await worker.started(1);
    await sleep(1500);
    await ctx.redis.config('RESETSTAT');
    await sleep(3000);
    const calls = await coreCalls(ctx.redis);
    console.log(`idle child, --interval 1, 3 s: ${calls} core calls`);
    expect(calls).toBeLessThanOrEqual(5);
  });
});
