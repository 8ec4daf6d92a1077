import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

describe('queue.put', () => {
  it('returns a 32-hex-digit jid and stores the job as given', async () => {
    const client = make();
    const queue = client.queue('underpants');
    const jid = await queue.put('gnomes.GnomesJob', { address: '123 Brief St.' }, { priority: -100, tags: ['tidy'], retries: 10 });
    expect(jid).toMatch(/^[0-9a-f]{32}$/);
    const job = await client.jobs.get(jid);
    expect(job).toBeInstanceOf(qless.Job);
    const j = job as qless.Job;
    expect(j.jid).toBe(jid);
    expect(j.klass).toBe('gnomes.GnomesJob');
    expect(j.queue).toBe('underpants');
    expect(j.state).toBe('waiting');
    expect(j.priority).toBe(-100);
    expect(j.tags).toEqual(['tidy']);
    expect(j.retries).toBe(10);
    expect(j.remaining).toBe(10);
    expect(j.data).toEqual({ address: '123 Brief St.' });
    expect(j.worker).toBe('');
    expect(j.expires).toBe(0);
    expect(j.failure).toBeNull();
    expect(j.tracked).toBe(false);
    expect(j.spawnedFromJid).toBeNull();
    expect(j.dependencies).toEqual([]);
    expect(j.dependents).toEqual([]);
    expect(j.history.map((h) => [h.what, h.q])).toEqual([['put', 'underpants']]);
  });

  it('uses the jid given, and defaults (priority 0, no tags, 5 retries)', async () => {
    const client = make();
    expect(await client.queue('q').put('a.B', {}, { jid: 'optional-own-jid' })).toBe('optional-own-jid');
    const job = (await client.jobs.get('optional-own-jid')) as qless.Job;
    expect([job.priority, job.tags, job.retries, job.data]).toEqual([0, [], 5, {}]);
  });

  it('keeps retries 0 and priority 0 as given', async () => {
    const client = make();
    const jid = await client.queue('q').put('a.B', {}, { retries: 0, priority: 0 });
    const job = (await client.jobs.get(jid)) as qless.Job;
    expect(job.retries).toBe(0);
    expect(job.remaining).toBe(0);
  });

  it('accepts a class carrying its klass, and refuses one that does not', async () => {
    const client = make();
    class GnomesJob {
      static klass = 'gnomes.GnomesJob';
    }
    const jid = await client.queue('q').put(GnomesJob, {});
    expect(((await client.jobs.get(jid)) as qless.Job).klass).toBe('gnomes.GnomesJob');
    const Tagged = qless.defineKlass(class Tagged {}, 'pkg.sub.mod.Tagged');
    const jid2 = await client.queue('q').put(Tagged, {});
    expect(((await client.jobs.get(jid2)) as qless.Job).klass).toBe('pkg.sub.mod.Tagged');
    class Nameless {}
    await expect(client.queue('q').put(Nameless, {})).rejects.toThrow(/class Nameless does not say which module exports it/);
    class Child extends GnomesJob {}
    await expect(client.queue('q').put(Child, {})).rejects.toThrow(/only inherits the klass "gnomes.GnomesJob"/);
    class Bad {
      static klass = 'NoModule';
    }
    await expect(client.queue('q').put(Bad, {})).rejects.toBeInstanceOf(qless.InvalidArgumentError);
    expect((await ctx.redis.keys('ql:j:*')).filter((k) => !k.endsWith('-history'))).toHaveLength(2);
  });

  it('refuses data that is not plain JSON before writing anything', async () => {
    const client = make();
    const queue = client.queue('q');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const cases: Array<[unknown, RegExp]> = [
      [{ f: () => 1 }, /data\.f is a function/],
      [{ u: undefined }, /data\.u is undefined/],
      [{ n: 10n }, /data\.n is a BigInt/],
      [cyclic, /data\.self refers back to itself/],
      [{ x: NaN }, /data\.x is NaN/],
      [{ x: [1, Infinity] }, /data\.x\[1\] is Infinity/],
      [{ when: new Date(0) }, /data\.when is a Date/],
      [{ m: new Map() }, /data\.m is a Map/],
      [[1, 2], /data must be a plain JSON object, got an array/],
      [new Date(0), /data must be a plain JSON object|data is a Date/],
    ];
    for (const [data, message] of cases) {
      const error = await queue.put('a.B', data as object).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(qless.InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(queue.put('a.B', {}, { tags: ['ok', 3 as unknown as string] })).rejects.toThrow(/tags\[1\]/);
    await expect(queue.put('a.B', {}, { priority: NaN })).rejects.toThrow(/priority must be a finite number/);
    await expect(queue.put('a.B', {}, { retries: 1.5 })).rejects.toThrow(/retries must be an integer/);
    await expect(queue.put('', {})).rejects.toThrow(/klass/);
    expect(await ctx.redis.keys('*')).toEqual([]);
  });

  it('requeue needs an existing job', async () => {
    const client = make();
    const queue = client.queue('q');
    await expect(queue.requeue('a.B', {}, { jid: 'missing' })).rejects.toBeInstanceOf(qless.JobNotFoundError);
    await queue.put('a.B', {}, { jid: 'there' });
    expect(await client.queue('other').requeue('a.B', { again: true }, { jid: 'there', priority: 3 })).toBe('there');
    const job = (await client.jobs.get('there')) as qless.Job;
    expect([job.queue, job.priority, job.data]).toEqual(['other', 3, { again: true }]);
  });
});

describe('queue.pop and peek', () => {
  it('pop() returns one job or null; pop(n) a list', async () => {
    const client = make();
    const queue = client.queue('q');
    expect(await queue.pop()).toBeNull();
    expect(await queue.pop(5)).toEqual([]);
    for (let i = 0; i < 25; i++) await queue.put('a.B', { i });
    const first = await queue.pop();
    expect(first).toBeInstanceOf(qless.Job);
    expect(first!.state).toBe('running');
    expect(first!.worker).toBe('worker-1');
    const twenty = await queue.pop(20);
    expect(twenty).toHaveLength(20);
    expect(twenty.every((j) => j.state === 'running')).toBe(true);
    expect(await queue.pop(20)).toHaveLength(4);
  });

  it('peek() does not take the job', async () => {
    const client = make();
    const queue = client.queue('q');
    expect(await queue.peek()).toBeNull();
    expect(await queue.peek(5)).toEqual([]);
    const jid = await queue.put('a.B', {});
    await queue.put('a.B', {});
    const peeked = await queue.peek();
    expect(peeked!.jid).toBe(jid);
    expect(peeked!.state).toBe('waiting');
    expect(await queue.peek(5)).toHaveLength(2);
    expect((await queue.pop())!.jid).toBe(jid);
  });

  it('pops the highest priority first, FIFO among equal priorities', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    const put = async (name: string, priority: number) => {
      clock.advance(1);
      return queue.put('a.B', { name }, { priority, jid: name });
    };
    await put('low-1', -10);
    await put('normal-1', 0);
    await put('high-1', 10);
    await put('normal-2', 0);
    await put('high-2', 10);
    await put('low-2', -10);
    const order = (await queue.pop(6)).map((j) => j.jid);
    expect(order).toEqual(['high-1', 'high-2', 'normal-1', 'normal-2', 'low-1', 'low-2']);
  });

  it('a delayed job is scheduled until its time comes', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    const jid = await queue.put('a.B', {}, { delay: 3600 });
    expect(((await client.jobs.get(jid)) as qless.Job).state).toBe('scheduled');
    expect(await queue.pop()).toBeNull();
    expect(await queue.jobs.scheduled()).toEqual([jid]);
    clock.advance(3599);
    expect(await queue.pop()).toBeNull();
    clock.advance(1);
    expect((await queue.pop())!.jid).toBe(jid);
  });
});

describe('queue information', () => {
  it('counts, length, pause and unpause', async () => {
    const client = make();
    const queue = client.queue('q');
    await queue.put('a.B', {});
    await queue.put('a.B', {});
    await queue.put('a.B', {}, { delay: 60 });
    await queue.pop();
    expect(await queue.counts()).toEqual({ name: 'q', waiting: 1, running: 1, stalled: 0, scheduled: 1, depends: 0, recurring: 0, paused: false });
    expect(await queue.length()).toBe(3);
    await queue.pause();
    expect((await queue.counts()).paused).toBe(true);
    expect(await queue.pop()).toBeNull();
    await queue.unpause();
    expect((await queue.pop())).not.toBeNull();
    const all = await client.queues.counts();
    expect(all.map((c) => c.name)).toEqual(['q']);
  });

  it('forget() drops the queue from listings until the next put', async () => {
    const client = make();
    const queue = client.queue('q');
    await queue.put('a.B', {});
    await queue.forget();
    expect(await client.queues.counts()).toEqual([]);
    expect(await queue.length()).toBe(1);
    await queue.put('a.B', {});
    expect((await client.queues.counts()).map((c) => c.name)).toEqual(['q']);
  });

  it('client.queues.counts() is [] with no queues', async () => {
    expect(await make().queues.counts()).toEqual([]);
  });

  it('stats report wait and run times of the day', async () => {
    const clock = new ManualClock(1_700_000_000);
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    await queue.put('a.B', {});
    clock.advance(2);
    const job = (await queue.pop())!;
    clock.advance(7);
    await job.complete();
    const stats = await queue.stats();
    expect(stats.wait.count).toBe(1);
    expect(stats.wait.mean).toBe(2);
    expect(stats.run.count).toBe(1);
    expect(stats.run.mean).toBe(7);
    expect(stats.run.histogram).toHaveLength(148);
    expect(stats.run.histogram[7]).toBe(1);
    expect([stats.failed, stats.failures, stats.retries]).toEqual([0, 0, 0]);
    const yesterday = await queue.stats(new Date((clock.time - 86400) * 1000));
    expect(yesterday.run.count).toBe(0);
    expect((await queue.stats(clock.time)).run.count).toBe(1);
  });

  it('heartbeat: per-queue setting, else global, else 60', async () => {
    const client = make();
    const queue = client.queue('q');
    expect(await queue.getHeartbeat()).toBe(60);
    await client.config.set('heartbeat', 90);
    expect(await queue.getHeartbeat()).toBe(90);
    await queue.setHeartbeat(30);
    expect(await queue.getHeartbeat()).toBe(30);
    expect(await client.config.get('q-heartbeat')).toBe(30);
    await queue.unsetHeartbeat();
    expect(await queue.getHeartbeat()).toBe(90);
  });

  it('jobs listings: running, stalled, scheduled, depends, recurring (paginated)', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    const a = await queue.put('a.B', {}, { jid: 'a' });
    await queue.put('a.B', {}, { jid: 'b' });
    await queue.put('a.B', {}, { jid: 'c', delay: 100 });
    await queue.put('a.B', {}, { jid: 'd', depends: [a] });
    await queue.recur('a.B', {}, { interval: 60, offset: 30, jid: 'r' });
    await queue.pop(2);
    expect(await queue.jobs.running()).toEqual(['a', 'b']);
    expect(await queue.jobs.running(1, 1)).toEqual(['b']);
    expect(await queue.jobs.scheduled()).toEqual(['c']);
    expect(await queue.jobs.depends()).toEqual(['d']);
    expect(await queue.jobs.recurring()).toEqual(['r']);
    expect(await queue.jobs.stalled()).toEqual([]);
    clock.advance(61);
    expect(await queue.jobs.stalled()).toEqual(['a', 'b']);
    await expect(queue.jobs.running(-1)).rejects.toBeInstanceOf(qless.InvalidArgumentError);
  });
});
