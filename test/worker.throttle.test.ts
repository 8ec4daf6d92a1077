/**
 * Throttles and rate limits with the real worker daemon: a throttle shared
 * by two queues holds across children and slots, a failing holder gives its
 * slot back, and a rate-limited queue starts no more jobs per window than
 * allowed, drains at that pace, and is not polled while it waits.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { allComplete, FIXTURES, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** The most jobs running at once, from `<jid> start|end <ms>` records. */
function mostAtOnce(records: string[]): number {
  const events = records.map((line) => {
    const [, what, ms] = line.split(' ');
    return { at: Number(ms), delta: what === 'start' ? 1 : -1 };
  });
  // Ends before starts at the same millisecond: a slot handed on is not an overlap.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let most = 0;
  for (const event of events) {
    now += event.delta;
    most = Math.max(most, now);
  }
  return most;
}

/** FCALL and EVALSHA calls Redis has served so far (every core call is one). */
async function coreCalls(): Promise<number> {
  const info = await ctx.redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(?:fcall|evalsha):calls=(\d+)/gm)) calls += Number(m[1]);
  return calls;
}

describe('throttles with qless-ts-worker', { timeout: 120_000 }, () => {
  it('10 jobs on throttle api (maximum 2) across two queues: never more than 2 at once, all complete', async () => {
    const client = qless.client(ctx.url);
    await client.throttles.set('api', 2);
    const jids: string[] = [];
    for (let i = 0; i < 10; i++) {
      jids.push(await client.queue(i % 2 === 0 ? 'alpha' : 'beta').put('limits.Span', { ms: 300 }, { throttles: ['api'] }));
    }
    // A holder that fails gives its slot back (else the rest would wait forever).
    const failing = await client.queue('alpha').put('limits.Boom', {}, { throttles: ['api'], priority: 10 });
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'alpha', '-q', 'beta', '-w', '2', '-c', '4', '-i', '0.2', '-n', 'throttled']);
    await allComplete(client, jids, 60_000);
    expect((await client.jobs.get(failing))!.state).toBe('failed');
    const spans = await ctx.redis.lrange('fixture:spans', 0, -1);
    expect(spans).toHaveLength(20);
    expect(mostAtOnce(spans)).toBe(2);
    expect(await client.throttles.locks('api')).toEqual([]);
    expect(await client.throttles.pending('api')).toEqual([]);
    await client.close();
  });
});

describe('a slot comes back when its holder is canceled while it runs', { timeout: 120_000 }, () => {
  it('the parked jobs then run', async () => {
    const client = qless.client(ctx.url);
    await client.throttles.set('api', 1);
    const queue = client.queue('alpha');
    const long = await queue.put('limits.Span', { ms: 60_000 }, { throttles: ['api'], priority: 10 });
    const rest = [await queue.put('limits.Span', { ms: 50 }, { throttles: ['api'] }), await queue.put('limits.Span', { ms: 50 }, { throttles: ['api'] })];
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'alpha', '-w', '1', '-c', '3', '-i', '0.2', '-n', 'cancel']);
    await until(async () => (await client.throttles.locks('api')).includes(long), 30_000, 'the long job to hold the slot');
    expect((await client.jobs.get(rest[0]!))!.state).not.toBe('running');
    await client.jobs.cancel(long);
    await allComplete(client, rest, 30_000);
    expect(await client.throttles.locks('api')).toEqual([]);
    await client.close();
  });
});

describe('rate limits with qless-ts-worker', { timeout: 120_000 }, () => {
  it('5 per second, 40 jobs, 4 children: no window has more than 5 starts, it drains in about 8 s, without busy polling', async () => {
    const client = qless.client(ctx.url);
    const queue = client.queue('paced');
    await queue.setRateLimit(5, 1);
    const jids: string[] = [];
    for (let i = 0; i < 40; i++) jids.push(await queue.put('limits.Start', {}));
    const before = await coreCalls();
    const started = Date.now();
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'paced', '-w', '4', '-c', '1', '-i', '5', '-n', 'paced']);
    // Watched without core calls, so that only the worker's are counted.
    await until(async () => (await ctx.redis.zcard('ql:completed')) === 40, 60_000, 'the 40 jobs to complete');
    const seconds = (Date.now() - started) / 1000;
    const calls = (await coreCalls()) - before;
    await allComplete(client, jids, 5000);

    // Pop times, from the lock expiry each pop gave (lock length 60 s).
    const starts = (await ctx.redis.lrange('fixture:starts', 0, -1)).map((text) => Number(text) - 60).sort((a, b) => a - b);
    expect(starts).toHaveLength(40);
    let most = 0;
    for (const first of starts) {
      // The core's window holds starts later than now - 1 s; 1 ms of slack for rounding.
      most = Math.max(most, starts.filter((t) => t >= first && t < first + 1 - 0.001).length);
    }
    expect(most).toBeLessThanOrEqual(5);
    // 8 windows of 5: the first pops at once, the last ~7 s later. With
    // --interval 5 that pace can only come from the waits the core gave.
    const drain = starts.at(-1)! - starts[0]!;
    expect(drain).toBeGreaterThan(6.5);
    expect(drain).toBeLessThan(9.5);
    // Each child pops about once per window it waits for, and the 40
    // completions ride with pops: 130-150 calls in all here (start-up
    // included; under 300 on a loaded machine), where a child that spun on
    // rate-limited pops would make thousands.
    console.log(`rate limit: 40 jobs popped over ${drain.toFixed(2)} s (${seconds.toFixed(1)} s with start-up), ${calls} core calls, busiest 1-s window ${most}`);
    expect(calls).toBeLessThan(300);
    await until(async () => (await queue.counts()).waiting === 0, 5000, 'the queue to be empty');
    await client.close();
  });
});
