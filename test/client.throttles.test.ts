/**
 * The client side of throttles and rate limits: client.throttles.*, the
 * `throttles` option of put and recur, queue.setMaxConcurrency and the
 * rate-limit calls, against a real Redis.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';
import { snapshot } from './support/raw.js';

const ctx = useRedis();
const make = useClients(ctx);

describe('client.throttles', () => {
  it('sets, reads, lists and deletes a limit', async () => {
    const client = make();
    await client.throttles.set('stripe-api', 2, { expiration: 600 });
    expect(await client.throttles.get('stripe-api')).toEqual({ id: 'stripe-api', maximum: 2, ttl: 600 });
    const queue = client.queue('billing');
    const first = await queue.put('Charge', {}, { throttles: ['stripe-api'] });
    const second = await queue.put('Charge', {}, { throttles: ['stripe-api'] });
    const third = await queue.put('Charge', {}, { throttles: ['stripe-api'] });
    const popped = await queue.pop(3);
    expect(popped).toHaveLength(2);
    expect(popped[0]!.throttles).toEqual(['stripe-api', 'ql:q:billing']);
    expect((await client.throttles.locks('stripe-api')).sort()).toEqual(popped.map((j) => j.jid).sort());
    const parked = [first, second, third].find((jid) => !popped.some((j) => j.jid === jid))!;
    expect(await client.throttles.pending('stripe-api')).toEqual([parked]);
    expect(await queue.jobs.throttled()).toEqual([parked]);
    expect((await client.jobs.get(parked))!.state).toBe('throttled');

    const list = await client.throttles.list();
    expect(list.map((t) => [t.id, t.maximum, t.locks.length, t.pending.length])).toEqual([
      ['ql:q:billing', 0, 2, 0],
      ['stripe-api', 2, 2, 1],
    ]);

    await client.throttles.delete('stripe-api');
    expect(await client.throttles.get('stripe-api')).toEqual({ id: 'stripe-api', maximum: 0, ttl: -2 });
    // The limit is gone: the parked job may run.
    expect((await client.jobs.get(parked))!.state).toBe('waiting');
  });

  it('lists a throttle whose own name ends in -locks or -pending', async () => {
    const client = make();
    await client.throttles.set('db-locks', 3);
    await client.throttles.set('mail-pending', 1);
    await client.queue('q').put('K', {}, { throttles: ['mail-pending'] });
    await client.queue('q').pop();
    const list = await client.throttles.list();
    expect(list.map((t) => [t.id, t.maximum, t.locks.length])).toEqual([
      ['db-locks', 3, 0],
      ['mail-pending', 1, 1],
      ['ql:q:q', 0, 1],
    ]);
  });

  it('refuses bad arguments before anything is written', async () => {
    const client = make();
    const before = await snapshot(ctx.redis);
    await expect(client.throttles.set('', 1)).rejects.toThrow(qless.InvalidArgumentError);
    await expect(client.throttles.set('api', -1)).rejects.toThrow('maximum must be an integer of at least 0, got -1');
    await expect(client.throttles.set('api', 1.5)).rejects.toThrow(qless.InvalidArgumentError);
    await expect(client.throttles.set('api', 1, { expiration: -5 })).rejects.toThrow('expiration must be 0 or more seconds');
    await expect(client.queue('q').put('K', {}, { throttles: [''] as string[] })).rejects.toThrow(qless.InvalidArgumentError);
    await expect(client.queue('q').setMaxConcurrency(-1)).rejects.toThrow(qless.InvalidArgumentError);
    await expect(client.queue('q').setRateLimit(0, 1)).rejects.toThrow('rate limit must be an integer of at least 1, got 0');
    await expect(client.queue('q').setRateLimit(5, 0)).rejects.toThrow('rate window must be more than 0 seconds, got 0');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('a job without throttles shows none and its object is unchanged', async () => {
    const client = make();
    const jid = await client.queue('q').put('K', {});
    expect((await client.jobs.get(jid))!.throttles).toEqual([]);
    expect(await client.call('get', jid)).not.toContain('throttles');
  });

  it('recur passes throttles on to every child', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const jid = await client.queue('q').recur('K', {}, { interval: 60, throttles: ['api'] });
    const template = await client.jobs.get(jid);
    expect(template).toBeInstanceOf(qless.RecurringJob);
    expect((template as qless.RecurringJob).throttles).toEqual(['api', 'ql:q:q']);
    const child = await client.queue('q').pop();
    expect(child!.throttles).toEqual(['api', 'ql:q:q']);
    await (template as qless.RecurringJob).update({ throttles: [] });
    expect(((await client.jobs.get(jid)) as qless.RecurringJob).throttles).toEqual([]);
  });
});

describe('queue.setMaxConcurrency', () => {
  it('is the queue\'s own throttle: at most n of its jobs run at once', async () => {
    const client = make();
    const queue = client.queue('q');
    expect(await queue.maxConcurrency()).toBeNull();
    for (let i = 0; i < 4; i++) await queue.put('K', {});
    await queue.setMaxConcurrency(2);
    expect(await queue.maxConcurrency()).toBe(2);
    expect(await client.throttles.get('ql:q:q')).toMatchObject({ maximum: 2 });
    const running = await queue.pop(4);
    expect(running).toHaveLength(2);
    expect(await queue.pop(4)).toHaveLength(0);
    await running[0]!.complete();
    expect(await queue.pop(4)).toHaveLength(1);
    await queue.setMaxConcurrency(0);
    expect(await queue.maxConcurrency()).toBeNull();
    expect(await queue.pop(4)).toHaveLength(1);
  });
});

describe('queue rate limits', () => {
  it('set, read and clear', async () => {
    const client = make();
    const queue = client.queue('q');
    expect(await queue.rateLimit()).toBeNull();
    await queue.setRateLimit(5, 2);
    expect(await queue.rateLimit()).toEqual({ limit: 5, per: 2 });
    expect(await client.config.get('q-rate-limit')).toBe(5);
    await queue.setRateLimit(10);
    expect(await queue.rateLimit()).toEqual({ limit: 10, per: 1 });
    await queue.clearRateLimit();
    expect(await queue.rateLimit()).toBeNull();
  });

  it('pop takes no more than the limit allows, and the rest stay waiting', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    for (let i = 0; i < 5; i++) await queue.put('K', {});
    await queue.setRateLimit(2, 1);
    expect(await queue.pop(5)).toHaveLength(2);
    expect(await queue.pop(5)).toHaveLength(0);
    expect((await queue.counts()).waiting).toBe(3);
    clock.advance(1);
    expect(await queue.pop(5)).toHaveLength(2);
  });
});
