import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

describe('client.jobs', () => {
  it('get: a Job, a RecurringJob, or null; several jids: the jobs that exist', async () => {
    const client = make();
    const a = await client.queue('q').put('a.B', {});
    const b = await client.queue('q').put('a.B', {});
    const r = await client.queue('q').recur('a.B', {}, { interval: 60, offset: 100 });
    expect(await client.jobs.get(a)).toBeInstanceOf(qless.Job);
    expect(await client.jobs.get(r)).toBeInstanceOf(qless.RecurringJob);
    expect(await client.jobs.get('nope')).toBeNull();
    const many = await client.jobs.get(b, 'nope', a);
    expect(many.map((j) => j.jid)).toEqual([b, a]);
    expect(await client.jobs.multiget([])).toEqual([]);
    expect((await client.jobs.multiget([a])).map((j) => j.jid)).toEqual([a]);
  });

  it('complete lists completed jids, newest first, paginated', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const jids: string[] = [];
    for (let i = 0; i < 3; i++) {
      jids.push(await client.queue('q').put('a.B', {}));
      clock.advance(1);
      await (await client.queue('q').pop())!.complete();
    }
    expect(await client.jobs.complete()).toEqual([...jids].reverse());
    expect(await client.jobs.complete(1, 1)).toEqual([jids[1]]);
  });

  it('tagged lists jids by tag; client.tags() the most used tags', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const a = await client.queue('q').put('a.B', {}, { tags: ['tidy', 'x'] });
    clock.advance(1);
    const b = await client.queue('q').put('a.B', {}, { tags: ['tidy'] });
    expect(await client.jobs.tagged('tidy')).toEqual({ total: 2, jids: [a, b] });
    expect(await client.jobs.tagged('tidy', 1, 5)).toEqual({ total: 2, jids: [b] });
    expect(await client.jobs.tagged('none')).toEqual({ total: 0, jids: [] });
    expect(await client.tags()).toEqual(['tidy']);
    expect(await make().tags(0, 0)).toEqual([]);
  });

  it('failed and unfail', async () => {
    const client = make();
    expect(await client.jobs.failed()).toEqual({});
    expect(await client.jobs.failed('nothing')).toEqual({ total: 0, jobs: [] });
    for (let i = 0; i < 3; i++) {
      await client.queue('q').put('a.B', { i });
      await (await client.queue('q').pop())!.fail('group', `oops ${i}`);
    }
    const page = await client.jobs.failed('group', 0, 2);
    expect(page.total).toBe(3);
    expect(page.jobs.map((j) => j.data['i'])).toEqual([2, 1]);
    expect(await client.unfail('group', 'retry-queue', 2)).toBe(2);
    expect(await client.queue('retry-queue').length()).toBe(2);
    expect(await client.unfail('group', 'retry-queue')).toBe(1);
    expect(await client.jobs.failed()).toEqual({});
  });

  it('tracked, client.track and client.untrack', async () => {
    const client = make();
    const jid = await client.queue('q').put('a.B', {});
    expect(await client.track(jid)).toBe(true);
    expect(await client.track(jid)).toBe(false);
    let tracked = await client.jobs.tracked();
    expect(tracked.jobs.map((j) => [j.jid, j.tracked])).toEqual([[jid, true]]);
    expect(tracked.expired).toEqual([]);
    await client.jobs.cancel(jid);
    tracked = await client.jobs.tracked();
    expect(tracked).toEqual({ jobs: [], expired: [jid] });
    const other = await client.queue('q').put('a.B', {});
    await client.track(other);
    expect(await client.untrack(other)).toBe(true);
    await expect(client.track('missing')).rejects.toBeInstanceOf(qless.JobNotFoundError);
  });

  it('cancel several jobs: a job with dependents only together with them', async () => {
    const client = make();
    const eggs = await client.queue('q').put('a.B', {});
    const omelette = await client.queue('q').put('a.B', {}, { depends: [eggs] });
    const job = (await client.jobs.get(eggs)) as qless.Job;
    await expect(job.cancel()).rejects.toThrow(/is a dependency of/);
    expect((await client.jobs.cancel(eggs, omelette)).sort()).toEqual([eggs, omelette].sort());
    expect(await client.jobs.get(eggs, omelette)).toEqual([]);
  });
});

describe('client.workers', () => {
  it('counts and get', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock, workerName: 'w1' });
    expect(await client.workers.counts()).toEqual([]);
    await client.queue('q').put('a.B', {}, { jid: 'a' });
    await client.queue('q').pop();
    expect(await client.workers.counts()).toEqual([{ name: 'w1', lastSeen: client.now(), jobs: 1, stalled: 0 }]);
    expect(await client.workers.get('w1')).toEqual({ jobs: ['a'], stalled: [] });
    expect(await client.workers.get('nobody')).toEqual({ jobs: [], stalled: [] });
    clock.advance(61);
    expect(await client.workers.get('w1')).toEqual({ jobs: [], stalled: ['a'] });
    await client.workers.deregister('w1');
    expect(await client.workers.counts()).toEqual([]);
  });
});

describe('client.config', () => {
  it('get, set, unset and all, with numbers typed as numbers', async () => {
    const client = make();
    expect(await client.config.get('heartbeat')).toBe(60);
    expect(await client.config.get('application')).toBe('qless');
    expect(await client.config.get('no-such-option')).toBeNull();
    await client.config.set('heartbeat', 120);
    expect(await client.config.get('heartbeat')).toBe(120);
    await client.config.set('grace-period', '2.5');
    expect(await client.config.get('grace-period')).toBe(2.5);
    await client.config.set('application', 'gnomes');
    await client.config.set('odd', '0x10');
    expect(await client.config.get('odd')).toBe('0x10');
    const all = await client.config.all();
    expect(all).toMatchObject({ heartbeat: 120, application: 'gnomes', 'grace-period': 2.5, 'jobs-history': 604800, 'jobs-history-count': 50000, odd: '0x10' });
    await client.config.unset('heartbeat');
    expect(await client.config.get('heartbeat')).toBe(60);
    await expect(client.config.set('heartbeat', NaN)).rejects.toBeInstanceOf(qless.InvalidArgumentError);
  });

  it('config values are typed by a documented rule', () => {
    expect(qless.configValue('120')).toBe(120);
    expect(qless.configValue('-1')).toBe(-1);
    expect(qless.configValue('1e3')).toBe(1000);
    expect(qless.configValue('')).toBe('');
    expect(qless.configValue(' 7')).toBe(' 7');
    expect(qless.configValue('007')).toBe('007');
    expect(qless.configValue(60)).toBe(60);
  });
});
