import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

async function recurring(client: qless.Client, jid: string): Promise<qless.RecurringJob> {
  const found = await client.jobs.get(jid);
  if (!(found instanceof qless.RecurringJob)) throw new Error(`no recurring job ${jid}`);
  return found;
}

describe('queue.recur', () => {
  it('creates a template that spawns a child every interval, starting after offset', async () => {
    const clock = new ManualClock(1_700_000_000);
    const client = make({ clock: clock.clock });
    const queue = client.queue('maintenance');
    class Sweep {
      static klass = 'tasks.Sweep';
    }
    const jid = await queue.recur(Sweep, { tasks: ['sweep'] }, { interval: 86400, offset: 3600, priority: 2, tags: ['nightly'], retries: 1, backlog: 2 });
    const template = await recurring(client, jid);
    expect(template.state).toBe('recur');
    expect(template.toJSON()).toEqual({
      jid, klass: 'tasks.Sweep', queue: 'maintenance', data: { tasks: ['sweep'] },
      priority: 2, tags: ['nightly'], retries: 1, interval: 86400, count: 0, backlog: 2, throttles: [],
    });
    expect(await template.next()).toBe(clock.time + 3600);
    expect(await queue.pop()).toBeNull();
    clock.advance(3600);
    const first = (await queue.pop())!;
    expect(first.jid).toBe(`${jid}-1`);
    expect(first.spawnedFromJid).toBe(jid);
    expect([first.klass, first.data, first.priority, first.tags, first.retries]).toEqual(['tasks.Sweep', { tasks: ['sweep'] }, 2, ['nightly'], 1]);
    expect(await template.next()).toBe(clock.time + 86400);
    clock.advance(86400);
    expect((await queue.pop())!.jid).toBe(`${jid}-2`);
    expect((await recurring(client, jid)).count).toBe(2);
  });

  it('defaults: offset 0, 5 retries; retries 0 stays 0', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const a = await recurring(client, await client.queue('q').recur('a.B', {}, { interval: 60 }));
    expect([a.retries, a.priority, a.tags, a.backlog]).toEqual([5, 0, [], 0]);
    expect(await a.next()).toBe(clock.time);
    const b = await recurring(client, await client.queue('q').recur('a.B', {}, { interval: 60, retries: 0, jid: 'b' }));
    expect(b.retries).toBe(0);
  });

  it('refuses a missing or non-positive interval', async () => {
    const client = make();
    await expect(client.queue('q').recur('a.B', {}, { interval: 0 })).rejects.toBeInstanceOf(qless.InvalidArgumentError);
    await expect(client.queue('q').recur('a.B', {}, {} as qless.RecurOptions)).rejects.toBeInstanceOf(qless.InvalidArgumentError);
    expect(await ctx.redis.keys('*')).toEqual([]);
  });
});

describe('RecurringJob', () => {
  it('update changes fields locally and in the core', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const jid = await client.queue('q').recur('a.B', { v: 1 }, { interval: 60 });
    const template = await recurring(client, jid);
    await template.update({ priority: 0, retries: 0, interval: 120, data: { v: 2 }, klass: 'c.D', backlog: 3 });
    expect([template.priority, template.retries, template.interval, template.data, template.klass, template.backlog]).toEqual([0, 0, 120, { v: 2 }, 'c.D', 3]);
    const stored = await recurring(client, jid);
    expect(stored.toJSON()).toEqual(template.toJSON());
    expect(await stored.next()).toBe(clock.time + 60);
  });

  it('move updates the queue name, so next() reads the new queue', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const jid = await client.queue('q').recur('a.B', {}, { interval: 60, offset: 10 });
    const template = await recurring(client, jid);
    await template.move('elsewhere');
    expect(template.queue).toBe('elsewhere');
    expect(await template.next()).toBe(clock.time + 10);
    expect(await client.queue('elsewhere').jobs.recurring()).toEqual([jid]);
    expect(await client.queue('q').jobs.recurring()).toEqual([]);
  });

  it('tag, untag and cancel', async () => {
    const client = make();
    const jid = await client.queue('q').recur('a.B', {}, { interval: 60, tags: ['a'] });
    const template = await recurring(client, jid);
    expect(await template.tag('b', 'c')).toEqual(['a', 'b', 'c']);
    expect(await template.untag('a', 'c')).toEqual(['b']);
    expect(await template.untag('b')).toEqual([]);
    await template.cancel();
    expect(await client.jobs.get(jid)).toBeNull();
    expect(await template.next()).toBeNull();
    await expect(template.update({ priority: 1 })).rejects.toBeInstanceOf(qless.JobNotFoundError);
  });
});
