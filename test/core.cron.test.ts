/**
 * Cron templates in the core: `recur … cron`, the spawn at pop time driven
 * by the caller's `now`, daylight-saving changes, backlog over uneven
 * occurrences, recur.get and recur.update, and every refusal writing nothing.
 * The schedule's fields and the zone's table are made by the client's
 * compiler (src/cron), exactly as Queue.recur sends them.
 */
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { snapshot, zsetWithScores } from './support/raw.js';
import { compileCron, formatInZone } from '../src/cron/index.js';
import type { CoreArg } from '../src/gateway.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

const at = (iso: string) => Date.parse(iso) / 1000;
const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** The arguments of `recur` for a cron template, as Queue.recur sends them. */
function cronArgs(queue: string, jid: string, expression: string, zone: string, built: number, extra: CoreArg[] = []): CoreArg[] {
  const cron = compileCron(expression, zone, built);
  return [
    queue, jid, 'klass', '{}', 'cron', cron.fieldsText, cron.transitionsText,
    'cron', expression, 'timezone', cron.timeZone, 'zone-until', cron.table.until, 'zone-tzdata', cron.table.tzdata ?? '',
    ...extra,
  ];
}

/** The `recur.update` value of a cron schedule. */
function cronUpdate(expression: string, zone: string, built: number): string {
  const cron = compileCron(expression, zone, built);
  return JSON.stringify({
    expression, fields: cron.fieldsText, timezone: cron.timeZone, transitions: cron.table.transitions,
    until: cron.table.until, tzdata: cron.table.tzdata ?? '',
  });
}

interface Popped {
  jid: string;
  history: Array<{ when: number; what: string }>;
}

/**
 * Pop everything the queue hands out at each instant from `from` to `to`
 * (step `step`), as a worker polling would: the children's occurrence times
 * (their `put` history entry), in order.
 */
async function occurrences(queue: string, from: number, to: number, step: number): Promise<number[]> {
  const times: number[] = [];
  for (let now = from; now <= to; now += step) {
    const jobs = await core.json<Popped[] | Record<string, never>>(now, 'pop', queue, 'worker', 50);
    for (const job of Array.isArray(jobs) ? jobs : []) times.push(job.history[0]!.when);
  }
  return times;
}

async function rejectsCleanly(now: number, command: string, args: CoreArg[], message: string | RegExp): Promise<void> {
  const before = await snapshot(ctx.redis);
  await expect(core.call(now, command, ...args)).rejects.toThrow(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

describe('cron templates: the issue cases', () => {
  it('a daily 02:30 Europe/Berlin job spawns once on 03-28, at 03:00 CEST on 03-29 (spring forward), once on 03-30', async () => {
    const start = at('2026-03-27T12:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'daily', '30 2 * * *', 'Europe/Berlin', start));
    const times = await occurrences('q', start, at('2026-03-31T00:00:00Z'), 5 * MINUTE);
    expect(times.map((t) => formatInZone(t, 'Europe/Berlin'))).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-30T02:30:00+02:00',
    ]);
  });

  it('and once on 2026-10-25, when 02:30 happens twice (fall back), at its first happening', async () => {
    const built = at('2026-03-01T00:00:00Z');
    const start = at('2026-10-24T12:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'daily', '30 2 * * *', 'Europe/Berlin', built));
    const times = await occurrences('q', start, at('2026-10-26T12:00:00Z'), 5 * MINUTE);
    expect(times.map((t) => formatInZone(t, 'Europe/Berlin'))).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']);
  });

  it('*/15 * * * * over a simulated day makes 96 jobs', async () => {
    const day = at('2026-06-01T00:00:00Z');
    await core.call(day - 1, 'recur', ...cronArgs('q', 'quarter', '*/15 * * * *', 'UTC', day - 1));
    const times = await occurrences('q', day - 1, day + DAY - 1, 7 * MINUTE);
    expect(times).toHaveLength(96);
    expect(times[0]).toBe(day);
    expect(new Set(times.map((t) => t % (15 * MINUTE)))).toEqual(new Set([0]));
    expect(await ctx.redis.hget('ql:r:quarter', 'count')).toBe('96');
  });

  it('makes an occurrence once however many pollers ask at the same instant', async () => {
    const start = at('2026-06-01T00:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'hourly', '@hourly', 'UTC', start));
    const due = start + HOUR;
    const replies = await Promise.all([1, 2, 3, 4].map(() => core.json<Popped[] | object>(due, 'pop', 'q', 'worker', 5)));
    expect(replies.flatMap((reply) => (Array.isArray(reply) ? reply.map((job) => job.jid) : []))).toEqual(['hourly-1']);
  });
});

describe('cron templates: what recur stores and recur.get shows', () => {
  it('keeps qless-core fields (interval = gap to the next run) plus fields other clients ignore', async () => {
    const now = at('2026-01-05T10:00:00Z');
    await core.call(now, 'recur', ...cronArgs('q', 'weekday', '0 9 * * MON-FRI', 'America/New_York', now, ['priority', 3, 'tags', '["a"]', 'retries', 2, 'backlog', 1]));
    const hash = await ctx.redis.hgetall('ql:r:weekday');
    expect(hash).toMatchObject({
      jid: 'weekday', klass: 'klass', type: 'cron', cron: '0 9 * * MON-FRI', timezone: 'America/New_York',
      priority: '3', tags: '["a"]', retries: '2', backlog: '1', count: '0', state: 'recur', queue: 'q',
    });
    // Monday 05:00 in New York: the next run is 09:00 today, then Tuesday 09:00.
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-recur')).toEqual([['weekday', String(at('2026-01-05T14:00:00Z'))]]);
    expect(hash['interval']).toBe(String(DAY));
    const reply = await core.json<Record<string, unknown>>(now, 'recur.get', 'weekday');
    expect(reply).toMatchObject({
      jid: 'weekday', klass: 'klass', state: 'recur', queue: 'q', priority: 3, interval: DAY, retries: 2, count: 0,
      data: '{}', tags: ['a'], backlog: 1, cron: '0 9 * * MON-FRI', timezone: 'America/New_York',
    });
    expect(reply['zone_until']).toBe(Number(hash['zone-until']));
  });

  it('a cron template with throttles shows both, and its children carry the throttles', async () => {
    const now = at('2026-06-01T00:00:00Z');
    await core.call(now, 'recur', ...cronArgs('q', 'j', '@hourly', 'UTC', now, ['throttles', '["api"]']));
    expect(await core.json(now, 'recur.get', 'j')).toMatchObject({ cron: '@hourly', throttles: ['api', 'ql:q:q'] });
    await core.call(now + 3600, 'peek', 'q', 1);
    expect(await core.json(now + 3600, 'get', 'j-1')).toMatchObject({ throttles: ['api', 'ql:q:q'] });
  });

  it('updates the interval other clients read to the latest gap as it spawns', async () => {
    const friday = at('2026-01-09T12:00:00Z');
    await core.call(friday, 'recur', ...cronArgs('q', 'weekday', '0 13 * * MON-FRI', 'UTC', friday));
    expect(await ctx.redis.hget('ql:r:weekday', 'interval')).toBe(String(3 * DAY)); // Friday 13:00 → Monday
    await core.call(friday + 2 * HOUR, 'pop', 'q', 'worker', 1);
    expect(await ctx.redis.hget('ql:r:weekday', 'interval')).toBe(String(3 * DAY));
    await core.call(friday + 3 * DAY + 2 * HOUR, 'pop', 'q', 'worker', 1);
    expect(await ctx.redis.hget('ql:r:weekday', 'interval')).toBe(String(DAY));
  });

  it('an interval template re-recurred as cron and back: the cron fields come and go', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    const now = at('2026-01-01T00:00:00Z');
    await core.call(now, 'recur', ...cronArgs('q', 'j', '*/5 * * * *', 'UTC', now));
    expect(await ctx.redis.hget('ql:r:j', 'type')).toBe('cron');
    await core.call(now, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    expect(Object.keys(await ctx.redis.hgetall('ql:r:j')).sort()).toEqual(
      ['backlog', 'count', 'data', 'interval', 'jid', 'klass', 'priority', 'queue', 'retries', 'state', 'tags', 'type'],
    );
    expect(await core.call(now, 'recur.get', 'j')).toBe(
      '{"tags":{},"jid":"j","retries":0,"data":"{}","queue":"q","state":"recur","count":0,"interval":60,"klass":"k","backlog":0,"priority":0}',
    );
  });

  it('publishes nothing when it spawns', async () => {
    const start = at('2026-06-01T00:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'j', '* * * * *', 'UTC', start));
    events.clear();
    await core.call(start + 5 * MINUTE, 'peek', 'q', 10);
    expect(await events.settle()).toEqual([]);
    expect(await ctx.redis.hget('ql:r:j', 'count')).toBe('5');
  });
});

describe('cron templates: backlog counts occurrences', () => {
  it('backlog 0 spawns every missed occurrence (up to the pop budget), oldest first', async () => {
    const start = at('2026-06-01T00:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'j', '0 * * * *', 'UTC', start));
    const times = await occurrences('q', start + 10 * HOUR + 30 * MINUTE, start + 10 * HOUR + 30 * MINUTE, 1);
    expect(times).toEqual(Array.from({ length: 10 }, (_, i) => start + (i + 1) * HOUR));
  });

  it('backlog n spawns the n most recent due occurrences, and the schedule goes on from there', async () => {
    const start = at('2026-06-01T00:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'j', '0 * * * *', 'UTC', start, ['backlog', 2]));
    const late = start + 10 * HOUR + 30 * MINUTE;
    expect(await occurrences('q', late, late, 1)).toEqual([start + 9 * HOUR, start + 10 * HOUR]);
    expect(await ctx.redis.zscore('ql:q:q-recur', 'j')).toBe(String(start + 11 * HOUR));
  });

  it('backlog on uneven occurrences (weekdays only) counts runs, not days', async () => {
    const friday = at('2026-01-09T00:00:00Z');
    await core.call(friday, 'recur', ...cronArgs('q', 'j', '0 12 * * MON-FRI', 'UTC', friday, ['backlog', 3]));
    // Twelve days later: Fri, Mon–Fri, Mon, Tue and Wed were due; the last three remain.
    const late = at('2026-01-21T18:00:00Z');
    const times = await occurrences('q', late, late, 1);
    expect(times.map((t) => new Date(t * 1000).toISOString().slice(0, 10))).toEqual(['2026-01-19', '2026-01-20', '2026-01-21']);
  });

  it('backlog on a dense schedule long overdue does not walk every occurrence', async () => {
    const start = at('2026-06-01T00:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'j', '* * * * * *', 'UTC', start, ['backlog', 5]));
    const late = start + 90 * DAY;
    const began = Date.now();
    expect(await occurrences('q', late, late, 1)).toEqual([late - 4, late - 3, late - 2, late - 1, late]);
    expect(Date.now() - began).toBeLessThan(5000);
  });
});

describe('cron templates: recur.update', () => {
  it('a fresh table for the same schedule keeps an overdue occurrence due', async () => {
    const start = at('2026-06-01T00:00:00Z');
    await core.call(start, 'recur', ...cronArgs('q', 'j', '0 3 * * *', 'Europe/Berlin', start));
    const due = Number(await ctx.redis.zscore('ql:q:q-recur', 'j'));
    await core.call(due + HOUR, 'recur.update', 'j', 'cron', cronUpdate('0 3 * * *', 'Europe/Berlin', due + HOUR));
    expect(Number(await ctx.redis.zscore('ql:q:q-recur', 'j'))).toBe(due);
    expect(await ctx.redis.hget('ql:r:j', 'zone-until')).toBe(String(compileCron('0 3 * * *', 'Europe/Berlin', due + HOUR).table.until));
  });

  it('a new schedule or zone starts from now; an interval template becomes a cron one', async () => {
    const now = at('2026-06-01T10:17:00Z');
    await core.call(now, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await core.call(now, 'recur.update', 'j', 'cron', cronUpdate('30 12 * * *', 'Asia/Tokyo', now));
    expect(await ctx.redis.hget('ql:r:j', 'type')).toBe('cron');
    // 12:30 in Tokyo is 03:30 UTC: today's is past, so tomorrow's.
    expect(await ctx.redis.zscore('ql:q:q-recur', 'j')).toBe(String(at('2026-06-02T03:30:00Z')));
    expect(await core.json(now, 'recur.get', 'j')).toMatchObject({ cron: '30 12 * * *', timezone: 'Asia/Tokyo', interval: DAY });
  });

  it('refuses an interval for a cron template, and a bad cron value, writing nothing', async () => {
    const now = at('2026-06-01T00:00:00Z');
    await core.call(now, 'recur', ...cronArgs('q', 'j', '0 3 * * *', 'UTC', now));
    await rejectsCleanly(now, 'recur.update', ['j', 'priority', 5, 'interval', 60], 'Recur(): j runs on a cron schedule; change it with "cron", not "interval"');
    await rejectsCleanly(now, 'recur.update', ['j', 'priority', 5, 'cron', '"0 3 * * *"'], 'Recur(): Arg "cron" must be a JSON object');
    await rejectsCleanly(now, 'recur.update', ['j', 'priority', 5, 'cron', JSON.stringify({ expression: 'x', fields: 'or 1', timezone: 'UTC', transitions: [[0, 0]] })], 'Recur(): Arg "cron-fields" is not a compiled cron schedule');
  });
});

describe('cron templates: refusals write nothing', () => {
  const now = at('2026-06-01T00:00:00Z');
  const good = compileCron('0 3 * * *', 'UTC', now);
  const base = (fields: CoreArg, table: CoreArg, ...options: CoreArg[]): CoreArg[] => ['q', 'j', 'k', '{}', 'cron', fields, table, ...options];
  const named = ['cron', '0 3 * * *', 'timezone', 'UTC'];
  const cases: Array<[string, CoreArg[], string | RegExp]> = [
    ['fields missing', ['q', 'j', 'k', '{}', 'cron'], 'Recur(): Arg "cron-fields" is not a compiled cron schedule: nil'],
    ['fields not compiled', base('0 3 * * *', good.transitionsText, ...named), 'Recur(): Arg "cron-fields" is not a compiled cron schedule: 0 3 * * *'],
    ['a field too short', base(good.fieldsText.slice(0, -1), good.transitionsText, ...named), 'not a compiled cron schedule'],
    // Fields and table are two arguments, as interval and offset are: one alone leaves an odd count.
    ['table missing', ['q', 'j', 'k', '{}', 'cron', good.fieldsText], /Odd number of additional args: table: /],
    ['table not JSON', base(good.fieldsText, '[[0,0]', ...named), 'Arg "zone-table" is not a list of [utc_start, offset] pairs in ascending order: [[0,0]'],
    ['table empty', base(good.fieldsText, '[]', ...named), 'Arg "zone-table" is not a list'],
    ['table not ascending', base(good.fieldsText, '[[10,0],[5,3600]]', ...named), 'Arg "zone-table" is not a list'],
    ['table offset beyond a day', base(good.fieldsText, '[[0,90000]]', ...named), 'Arg "zone-table" is not a list'],
    ['table with fractions', base(good.fieldsText, '[[0.5,0]]', ...named), 'Arg "zone-table" is not a list'],
    ['expression missing', base(good.fieldsText, good.transitionsText, 'timezone', 'UTC'), 'Recur(): Arg "cron" (the expression as written) missing'],
    ['zone missing', base(good.fieldsText, good.transitionsText, 'cron', '0 3 * * *'), 'Recur(): Arg "timezone" missing'],
    ['zone-until not a number', base(good.fieldsText, good.transitionsText, ...named, 'zone-until', 'soon'), 'Recur(): Arg "zone-until" not a number: soon'],
    ['an unknown option', base(good.fieldsText, good.transitionsText, ...named, 'interval', '60'), 'Recur(): Unrecognized option "interval"'],
    ['cron options on an interval template', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'timezone', 'UTC'], 'Recur(): Unrecognized option "timezone"'],
    ['option checks first', base('bad', good.transitionsText, ...named, 'priority', 'x'), 'Recur(): Arg "priority" not a number: x'],
    ['never runs', base(`and ${'1'.padEnd(60, '0')} ${'1'.padEnd(60, '0')} ${'1'.padEnd(24, '0')} ${'0'.repeat(30)}1 ${'01'.padEnd(12, '0')} ${'1'.repeat(7)}`, good.transitionsText, ...named), /Recur\(\): cron schedule "0 3 \* \* \*" never runs after/],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    await rejectsCleanly(now, 'recur', args, message);
  });

  it('a rejected re-recur leaves the existing template as it was', async () => {
    await core.call(now, 'recur', ...cronArgs('q', 'j', '0 3 * * *', 'UTC', now));
    await rejectsCleanly(now + 5, 'recur', base(good.fieldsText, '[]', ...named), 'Arg "zone-table" is not a list');
  });
});

describe('cron templates: a damaged stored schedule', () => {
  it('spawns nothing rather than failing every pop of its queue', async () => {
    const now = at('2026-06-01T00:00:00Z');
    await core.call(now, 'recur', ...cronArgs('q', 'j', '* * * * *', 'UTC', now));
    await core.call(now, 'put', 'w', 'q', 'plain', 'k', '{}', 0);
    await ctx.redis.hset('ql:r:j', 'zone-table', 'not json');
    const popped = await core.json<Popped[]>(now + HOUR, 'pop', 'q', 'worker', 10);
    expect(popped.map((job) => job.jid)).toEqual(['plain']);
  });
});
