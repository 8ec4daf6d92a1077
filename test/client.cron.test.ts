/**
 * Cron schedules through the client: `queue.recur(klass, data, { cron,
 * timezone })` driven by the client's clock, what a template reads back as,
 * its update and zone-table refresh, and refusals that write nothing.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

const at = (iso: string) => Date.parse(iso) / 1000;
const HOUR = 3600;
const DAY = 86_400;

async function recurring(client: qless.Client, jid: string): Promise<qless.RecurringJob> {
  const found = await client.jobs.get(jid);
  if (!(found instanceof qless.RecurringJob)) throw new Error(`no recurring job ${jid}`);
  return found;
}

/**
 * Pop and complete all that is due at each step of the clock from now to
 * `until`; the children's occurrence times.
 */
async function drain(queue: qless.Queue, clock: ManualClock, until: number, step: number): Promise<number[]> {
  const times: number[] = [];
  for (; clock.time <= until; clock.advance(step)) {
    for (const job of await queue.pop(20)) {
      times.push(job.history[0]!.when);
      await job.complete();
    }
  }
  return times;
}

describe('queue.recur with cron', () => {
  it('a daily 02:30 Europe/Berlin job across both 2026 changes, driven by the client clock', async () => {
    const clock = new ManualClock(at('2026-03-27T12:00:00Z'));
    const client = make({ clock: clock.clock });
    const queue = client.queue('nightly');
    const jid = await queue.recur('reports.Nightly', { kind: 'daily' }, { cron: '30 2 * * *', timezone: 'Europe/Berlin', jid: 'nightly' });
    expect(jid).toBe('nightly');
    const spring = await drain(queue, clock, at('2026-03-31T00:00:00Z'), 10 * 60);
    expect(spring.map((t) => qless.formatInZone(t, 'Europe/Berlin'))).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-30T02:30:00+02:00',
    ]);
    // Skip to late October: update with backlog 1 (the summer's runs are not wanted).
    const template = await recurring(client, jid);
    clock.time = at('2026-10-24T12:00:00Z');
    await template.update({ backlog: 1 });
    const caughtUp = await queue.pop(200);
    expect(caughtUp.map((job) => qless.formatInZone(job.history[0]!.when, 'Europe/Berlin'))).toEqual(['2026-10-24T02:30:00+02:00']);
    for (const job of caughtUp) await job.complete();
    const fall = await drain(queue, clock, at('2026-10-26T12:00:00Z'), 10 * 60);
    expect(fall.map((t) => qless.formatInZone(t, 'Europe/Berlin'))).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']);
  });

  it('*/15 * * * * makes 96 jobs over a simulated day', async () => {
    const day = at('2026-06-01T00:00:00Z');
    const clock = new ManualClock(day - 1);
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    await queue.recur('a.B', {}, { cron: '*/15 * * * *' });
    const times = await drain(queue, clock, day + DAY - 1, 11 * 60);
    expect(times).toHaveLength(96);
    expect(times.every((t) => t % 900 === 0)).toBe(true);
  });

  it('reads back with its schedule, in words, and its next three runs in its zone', async () => {
    const clock = new ManualClock(at('2026-01-05T10:00:00Z'));
    const client = make({ clock: clock.clock });
    const jid = await client.queue('q').recur('a.B', { x: 1 }, { cron: '0 9 * * mon-fri', timezone: 'america/new_york', priority: 1, tags: ['t'] });
    const template = await recurring(client, jid);
    expect([template.cron, template.timezone, template.interval, template.priority, template.tags]).toEqual([
      '0 9 * * mon-fri', 'America/New_York', DAY, 1, ['t'],
    ]);
    expect(template.describe()).toBe('at 09:00 on Monday to Friday (America/New_York)');
    expect((await template.upcoming()).map((t) => qless.formatInZone(t, 'America/New_York'))).toEqual([
      '2026-01-05T09:00:00-05:00', '2026-01-06T09:00:00-05:00', '2026-01-07T09:00:00-05:00',
    ]);
    expect(template.toJSON()).toMatchObject({ cron: { expression: '0 9 * * mon-fri', timezone: 'America/New_York' } });
    const interval = await recurring(client, await client.queue('q').recur('a.B', {}, { interval: 300 }));
    expect([interval.cron, interval.timezone, interval.describe()]).toEqual([null, null, 'every 5 minutes']);
    expect(interval.toJSON()).not.toHaveProperty('cron');
    expect(await interval.upcoming(2)).toEqual([clock.time, clock.time + 300]);
  });

  it('update: a new zone or expression moves the next run; an interval is refused for a cron template', async () => {
    const clock = new ManualClock(at('2026-06-01T00:00:00Z'));
    const client = make({ clock: clock.clock });
    const template = await recurring(client, await client.queue('q').recur('a.B', {}, { cron: '0 12 * * *', timezone: 'UTC' }));
    expect(await template.next()).toBe(at('2026-06-01T12:00:00Z'));
    await template.update({ timezone: 'Asia/Tokyo' });
    expect([template.timezone, await template.next()]).toEqual(['Asia/Tokyo', at('2026-06-01T03:00:00Z')]);
    await template.update({ cron: '0 18 * * *' });
    expect([template.cron, await template.next()]).toEqual(['0 18 * * *', at('2026-06-01T09:00:00Z')]);
    await expect(template.update({ interval: 60 })).rejects.toThrow(qless.InvalidArgumentError);
    await expect(template.update({ cron: 'not cron' })).rejects.toThrow(qless.CronExpressionError);
    expect((await recurring(client, template.jid)).cron).toBe('0 18 * * *');
  });

  it('refuses a bad expression, an unknown zone, or cron with interval, writing nothing', async () => {
    const client = make();
    const queue = client.queue('q');
    await expect(queue.recur('a.B', {}, { cron: '61 * * * *' })).rejects.toThrow(qless.CronExpressionError);
    await expect(queue.recur('a.B', {}, { cron: '61 * * * *' })).rejects.toThrow('Invalid cron expression "61 * * * *"');
    await expect(queue.recur('a.B', {}, { cron: '0 0 31 2 *' })).rejects.toThrow(/never runs/);
    await expect(queue.recur('a.B', {}, { cron: '@hourly', timezone: 'Mars/Olympus' })).rejects.toThrow(qless.UnknownTimeZoneError);
    await expect(queue.recur('a.B', {}, { cron: '@hourly', timezone: 'Mars/Olympus' })).rejects.toThrow('Unknown time zone "Mars/Olympus"');
    const both = { cron: '@hourly', interval: 60 } as unknown as qless.RecurOptions;
    await expect(queue.recur('a.B', {}, both)).rejects.toThrow('give either cron (with timezone) or interval (with offset), not both');
    const zoneOnly = { interval: 60, timezone: 'UTC' } as unknown as qless.RecurOptions;
    await expect(queue.recur('a.B', {}, zoneOnly)).rejects.toThrow('timezone applies to a cron schedule');
    expect(await ctx.redis.dbsize()).toBe(0);
  });
});

describe('templates this runtime cannot read', () => {
  it('an expression or zone another client stored still lists, as written, with the next run the core holds', async () => {
    const client = make();
    await client.queue('q').recur('a.B', {}, { cron: '@daily', jid: 'odd' });
    await ctx.redis.hset('ql:r:odd', 'cron', 'every full moon', 'timezone', 'Moon/Base');
    const template = await recurring(client, 'odd');
    expect(template.describe()).toBe('cron "every full moon" (Moon/Base)');
    expect(await template.upcoming()).toEqual([await template.next()]);
  });
});

describe('zone tables', () => {
  it('a table that runs short is sent again: by the queue for its templates, or the template itself', async () => {
    const clock = new ManualClock(at('2026-03-01T00:00:00Z'));
    const client = make({ clock: clock.clock });
    const queue = client.queue('q');
    const cron = await queue.recur('a.B', {}, { cron: '30 2 * * *', timezone: 'Europe/Berlin', jid: 'cron' });
    await queue.recur('a.B', {}, { interval: 60, jid: 'plain' });
    const built = Number(await ctx.redis.hget('ql:r:cron', 'zone-until'));
    expect(built - clock.time).toBeGreaterThan(9.9 * 365 * DAY);
    expect(await queue.refreshZoneTables()).toEqual([]);
    // Seven years on, three remain: still enough.
    clock.time = at('2033-03-01T00:00:00Z');
    expect(await queue.refreshZoneTables()).toEqual([]);
    // Nine years on, one remains: refreshed, and good for ten years again.
    clock.time = at('2035-03-01T00:00:00Z');
    expect(await queue.refreshZoneTables()).toEqual([cron]);
    expect(Number(await ctx.redis.hget('ql:r:cron', 'zone-until')) - clock.time).toBeGreaterThan(9.9 * 365 * DAY);
    expect(await (await recurring(client, cron)).refreshZoneTable()).toBe(false);
    expect(await (await recurring(client, cron)).refreshZoneTable({ force: true })).toBe(true);
  });

  it('a refresh keeps the next run where it was, overdue or not', async () => {
    const clock = new ManualClock(at('2026-06-01T00:00:00Z'));
    const client = make({ clock: clock.clock });
    const template = await recurring(client, await client.queue('q').recur('a.B', {}, { cron: '0 6 * * *', timezone: 'Europe/Berlin' }));
    const next = await template.next();
    clock.time = next! + 2 * HOUR;
    expect(await template.refreshZoneTable({ force: true })).toBe(true);
    expect(await template.next()).toBe(next);
  });
});
