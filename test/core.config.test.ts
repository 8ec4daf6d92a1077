import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { snapshot } from './support/raw.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

const DEFAULTS = {
  application: 'qless',
  heartbeat: 60,
  'grace-period': 10,
  'stats-history': 30,
  'histogram-history': 7,
  'jobs-history': 604800,
  'jobs-history-count': 50000,
};

describe('config.get', () => {
  it('lists the seven built-in defaults as JSON numbers (application a string)', async () => {
    expect(await core.json(0, 'config.get')).toEqual(DEFAULTS);
  });

  it('returns integer replies for numeric defaults and a bulk string for application', async () => {
    expect(await core.call(0, 'config.get', 'heartbeat')).toBe(60);
    expect(await core.call(0, 'config.get', 'grace-period')).toBe(10);
    expect(await core.call(0, 'config.get', 'stats-history')).toBe(30);
    expect(await core.call(0, 'config.get', 'histogram-history')).toBe(7);
    expect(await core.call(0, 'config.get', 'jobs-history')).toBe(604800);
    expect(await core.call(0, 'config.get', 'jobs-history-count')).toBe(50000);
    expect(await core.call(0, 'config.get', 'application')).toBe('qless');
  });

  it('returns nil for options with only an in-code fallback and for unknown options', async () => {
    for (const option of ['max-worker-age', 'max-job-history', 'q-heartbeat', 'q-max-concurrency', 'foo', '']) {
      expect(await core.call(0, 'config.get', option)).toBeNull();
    }
  });

  it('follows the spec example: set, get all, get one, unset', async () => {
    expect(await core.call(0, 'config.set', 'heartbeat', 100)).toBeNull();
    expect(await core.json(0, 'config.get')).toEqual({ ...DEFAULTS, heartbeat: '100' });
    expect(await core.call(0, 'config.get', 'heartbeat')).toBe('100');
    expect(await core.call(0, 'config.get', 'grace-period')).toBe(10);
    expect(await core.call(0, 'config.get', 'application')).toBe('qless');
    expect(await core.call(0, 'config.get', 'foo')).toBeNull();
    expect(await core.call(0, 'config.unset', 'heartbeat')).toBeNull();
    expect(await core.call(0, 'config.get', 'heartbeat')).toBe(60);
  });

  it('overlays every stored field, as JSON strings, including options without a default', async () => {
    await ctx.redis.hset('ql:config', { foo: 'bar', 'max-job-history': '5', application: 'mine', 'jobs-history': '' });
    expect(await core.json(0, 'config.get')).toEqual({
      ...DEFAULTS,
      foo: 'bar',
      'max-job-history': '5',
      application: 'mine',
      'jobs-history': '',
    });
    expect(await core.call(0, 'config.get', 'max-job-history')).toBe('5');
    expect(await core.call(0, 'config.get', 'jobs-history')).toBe('');
  });

  it('has no side effects and publishes nothing', async () => {
    await ctx.redis.hset('ql:config', 'foo', 'bar');
    const before = await snapshot(ctx.redis);
    await core.call(0, 'config.get');
    await core.call(0, 'config.get', 'foo');
    await core.call(0, 'config.get', 'heartbeat');
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect(await events.settle()).toEqual([]);
  });
});

describe('config.set', () => {
  it('checks option then value', async () => {
    await expect(core.call(0, 'config.set')).rejects.toThrow('config.set(): Arg "option" missing');
    await expect(core.call(0, 'config.set', 'heartbeat')).rejects.toThrow('config.set(): Arg "value" missing');
    expect(await snapshot(ctx.redis)).toEqual({});
    expect(await events.settle()).toEqual([]);
  });

  it('stores the text given (no normalisation); options the core does not read take any text', async () => {
    await core.call(0, 'config.set', 'grace-period', '0x10');
    await core.call(0, 'config.set', 'anything at all', '');
    await core.call(0, 'config.set', 'jobs-history', ' 12 ');
    await core.call(0, 'config.set', 'application', 'not a number');
    await core.call(0, 'config.set', 'hearbeat', '60s');
    await core.call(0, 'config.set', 'q-heartbeats', 'x');
    expect(await ctx.redis.hgetall('ql:config')).toEqual({
      'grace-period': '0x10',
      'anything at all': '',
      'jobs-history': ' 12 ',
      application: 'not a number',
      hearbeat: '60s',
      'q-heartbeats': 'x',
    });
    expect(await core.call(0, 'config.get', 'grace-period')).toBe('0x10');
    expect(await core.call(0, 'config.get', 'anything at all')).toBe('');
  });

  it('refuses a value that is not a finite number for every option the core reads as one', async () => {
    const options = [
      'heartbeat', 'grace-period', 'stats-history', 'histogram-history', 'jobs-history', 'jobs-history-count',
      'max-job-history', 'max-worker-age', 'emails-heartbeat', 'emails-max-concurrency', '-heartbeat',
    ];
    const before = await snapshot(ctx.redis);
    for (const option of options) {
      for (const value of ['abc', '60s', 'nan', 'inf', '-inf', '', '1e400', 'two']) {
        await expect(core.call(0, 'config.set', option, value)).rejects.toThrow(
          `config.set(): Arg "value" for "${option}" not a number: ${value}`,
        );
      }
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect(await events.settle()).toEqual([]);
    // Lua-numeric text (hex, exponent, spaces, negative, fraction) is a number.
    for (const value of ['0x10', '1e2', ' 7 ', '-1', '2.5']) await core.call(0, 'config.set', 'heartbeat', value);
    expect(await core.call(0, 'config.get', 'heartbeat')).toBe('2.5');
  });

  it('publishes config_set on ql:log with the exact text, value as a string', async () => {
    await core.call(0, 'config.set', 'foo', 'bar');
    await core.call(0, 'config.set', 'heartbeat', 100);
    await core.call(0, 'config.set', 'a/b', '');
    await core.call(0, 'config.set', 'q"x\\y', 'tab\there\nnl\u0001\u007f\u001f');
    await core.call(0, 'config.set', 'unicode', 'héllo ✓');
    expect(await events.settle()).toEqual([
      { channel: 'ql:log', message: '{"option":"foo","event":"config_set","value":"bar"}' },
      { channel: 'ql:log', message: '{"option":"heartbeat","event":"config_set","value":"100"}' },
      { channel: 'ql:log', message: '{"option":"a\\/b","event":"config_set","value":""}' },
      {
        channel: 'ql:log',
        message: '{"option":"q\\"x\\\\y","event":"config_set","value":"tab\\there\\nnl\\u0001\\u007f\\u001f"}',
      },
      { channel: 'ql:log', message: '{"option":"unicode","event":"config_set","value":"héllo ✓"}' },
    ]);
  });

  it('takes effect within later calls (no caching between calls)', async () => {
    await core.call(0, 'config.set', 'max-worker-age', 10);
    await ctx.redis.zadd('ql:workers', 0, 'w');
    expect(await core.json(10, 'workers')).toEqual({});
  });
});

describe('config.unset', () => {
  it('checks the option', async () => {
    await expect(core.call(0, 'config.unset')).rejects.toThrow('config.unset(): Arg "option" missing');
    expect(await events.settle()).toEqual([]);
  });

  it('deletes the field and publishes config_unset, even for an option that was not set', async () => {
    await core.call(0, 'config.set', 'foo', 'bar');
    await events.settle();
    events.clear();
    expect(await core.call(0, 'config.unset', 'foo')).toBeNull();
    expect(await core.call(0, 'config.unset', 'never-set')).toBeNull();
    expect(await core.call(0, 'config.unset', 'x/y')).toBeNull();
    expect(await ctx.redis.exists('ql:config')).toBe(0);
    expect(await events.settle()).toEqual([
      { channel: 'ql:log', message: '{"event":"config_unset","option":"foo"}' },
      { channel: 'ql:log', message: '{"event":"config_unset","option":"never-set"}' },
      { channel: 'ql:log', message: '{"event":"config_unset","option":"x\\/y"}' },
    ]);
  });

  it('makes a built-in default visible again', async () => {
    await core.call(0, 'config.set', 'application', 'mine');
    expect(await core.call(0, 'config.get', 'application')).toBe('mine');
    await core.call(0, 'config.unset', 'application');
    expect(await core.call(0, 'config.get', 'application')).toBe('qless');
    expect(await core.json(0, 'config.get')).toEqual(DEFAULTS);
  });
});

// Options read by the job commands of part 1.

describe('options used by other commands', () => {
  it('uses <queue>-heartbeat, else heartbeat, for pop and heartbeat', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'put', 'w', 'other', 'b', 'k', '{}', 0);
    await core.call(0, 'config.set', 'q-heartbeat', 7);
    await core.call(0, 'config.set', 'heartbeat', 100);
    const [a] = await core.json<Array<{ expires: number }>>(1, 'pop', 'q', 'w', 1);
    const [b] = await core.json<Array<{ expires: number }>>(1, 'pop', 'other', 'w', 1);
    expect(a!.expires).toBe(8);
    expect(b!.expires).toBe(101);
    expect(await core.call(2, 'heartbeat', 'a', 'w')).toBe(9);
    expect(await core.call(2, 'heartbeat', 'b', 'w')).toBe(102);
  });

  it('caps pops with <queue>-max-concurrency', async () => {
    for (const jid of ['a', 'b', 'c']) await core.call(0, 'put', 'w', 'q', jid, 'k', '{}', 0);
    await core.call(0, 'config.set', 'q-max-concurrency', 2);
    expect(await core.json<unknown[]>(1, 'pop', 'q', 'w', 5)).toHaveLength(2);
    expect(await core.json(1, 'pop', 'q', 'w', 5)).toEqual({});
    await core.call(1, 'config.set', 'q-max-concurrency', 0);
    expect(await core.json<unknown[]>(1, 'pop', 'q', 'w', 5)).toHaveLength(1);
  });

  it('trims history by max-job-history when appending (first entry kept)', async () => {
    await core.call(0, 'config.set', 'max-job-history', 5);
    for (let t = 0; t < 100; t++) await core.call(t, 'put', 'w', 'q', 'jid', 'k', '{}', 0);
    const job = await core.json<{ history: Array<{ when: number }> }>(100, 'get', 'jid');
    expect(job.history.map((h) => h.when)).toEqual([0, 96, 97, 98, 99]);
  });

  it.each([
    [-1, 9],
    [0, 9],
    [1, 2],
    [2, 9],
    [3, 3],
    [4, 4],
  ])('max-job-history %i keeps %i entries after a put and eight log appends', async (limit, length) => {
    await core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0);
    await core.call(0, 'config.set', 'max-job-history', limit);
    for (let t = 1; t <= 8; t++) await core.call(t, 'log', 'jid', `m${t}`);
    const history = await ctx.redis.lrange('ql:j:jid-history', 0, -1);
    expect(history).toHaveLength(length);
    expect(JSON.parse(history[0]!)).toEqual([0, 'put', { q: 'q' }]);
    if (length < 9) expect(JSON.parse(history[length - 1]!)).toEqual([8, 'm8']);
  });

  it('expires completed jobs by jobs-history and jobs-history-count', async () => {
    await core.call(0, 'config.set', 'jobs-history', 100);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0, 'tags', '["t"]');
    await core.call(0, 'pop', 'q', 'w', 1);
    await core.call(0, 'complete', 'a', 'w', 'q', '{}');
    await core.call(0, 'put', 'w', 'q', 'b', 'k', '{}', 0);
    await core.call(0, 'pop', 'q', 'w', 1);
    // Nothing happens with time alone.
    expect(await ctx.redis.exists('ql:j:a')).toBe(1);
    await core.call(100, 'complete', 'b', 'w', 'q', '{}');
    expect(await ctx.redis.exists('ql:j:a', 'ql:j:a-history')).toBe(0);
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['b']);
    expect(await ctx.redis.zscore('ql:tags', 't')).toBe('0');
    expect(await ctx.redis.exists('ql:t:t')).toBe(0);

    await core.call(100, 'config.set', 'jobs-history-count', 0);
    await core.call(100, 'put', 'w', 'q', 'c', 'k', '{}', 0);
    await core.call(100, 'pop', 'q', 'w', 1);
    expect(await core.call(101, 'complete', 'c', 'w', 'q', '{}')).toBe('complete');
    expect(await ctx.redis.exists('ql:j:b', 'ql:j:c')).toBe(0);
    expect(await ctx.redis.zcard('ql:completed')).toBe(0);
  });
});

// What another client can write with a raw HSET (config.set refuses it): the
// core reads such a value as unset, wherever it uses the option.
describe('numeric options holding text that is not a finite number', () => {
  const BAD = ['abc', '60s', 'nan', 'inf', '-inf', ''];
  const setRaw = (option: string, value: string) => ctx.redis.hset('ql:config', option, value);

  it.each(BAD)('heartbeat %j: pops and heartbeats lock for the default 60 s', async (bad) => {
    await setRaw('heartbeat', bad);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    const [job] = await core.json<Array<{ expires: number }>>(1, 'pop', 'q', 'w', 1);
    expect(job!.expires).toBe(61);
    expect(await core.call(2, 'heartbeat', 'a', 'w')).toBe(62);
    expect(await ctx.redis.zscore('ql:q:q-locks', 'a')).toBe('62');
    expect(await core.call(3, 'config.get', 'heartbeat')).toBe(bad);
  });

  it.each(BAD)('<queue>-heartbeat %j: the global heartbeat applies', async (bad) => {
    await setRaw('q-heartbeat', bad);
    await core.call(0, 'config.set', 'heartbeat', 30);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    const [job] = await core.json<Array<{ expires: number }>>(1, 'pop', 'q', 'w', 1);
    expect(job!.expires).toBe(31);
    expect(await core.call(2, 'heartbeat', 'a', 'w')).toBe(32);
  });

  it.each(BAD)('<queue>-max-concurrency %j: pops are not capped', async (bad) => {
    await setRaw('q-max-concurrency', bad);
    for (const jid of ['a', 'b', 'c']) await core.call(0, 'put', 'w', 'q', jid, 'k', '{}', 0);
    expect(await core.json<unknown[]>(1, 'pop', 'q', 'w', 5)).toHaveLength(3);
  });

  it.each(BAD)('grace-period %j: an expired lock gets the default 10 s courtesy', async (bad) => {
    await setRaw('grace-period', bad);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'pop', 'q', 'w1', 1);
    expect(await core.json(100, 'pop', 'q', 'w2', 1)).toEqual({});
    expect(await ctx.redis.zscore('ql:q:q-locks', 'a')).toBe('110');
    const [job] = await core.json<Array<{ worker: string }>>(110, 'pop', 'q', 'w2', 1);
    expect(job!.worker).toBe('w2');
  });

  it.each(BAD)('max-job-history %j: history is kept to the default 100 entries', async (bad) => {
    await setRaw('max-job-history', bad);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    for (let t = 1; t <= 120; t++) await core.call(t, 'log', 'a', `m${t}`);
    const history = await ctx.redis.lrange('ql:j:a-history', 0, -1);
    expect(history).toHaveLength(100);
    expect(JSON.parse(history[0]!)).toEqual([0, 'put', { q: 'q' }]);
    expect(JSON.parse(history[99]!)).toEqual([120, 'm120']);
  });

  it.each(BAD)('jobs-history and jobs-history-count %j: completes keep jobs for the default week', async (bad) => {
    await setRaw('jobs-history', bad);
    await setRaw('jobs-history-count', bad);
    for (const [jid, t] of [['a', 0], ['b', 604799]] as const) {
      await core.call(t, 'put', 'w', 'q', jid, 'k', '{}', 0);
      await core.call(t, 'pop', 'q', 'w', 1);
      expect(await core.call(t, 'complete', jid, 'w', 'q', '{}')).toBe('complete');
    }
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['a', 'b']);
    await core.call(604800, 'put', 'w', 'q', 'c', 'k', '{}', 0);
    await core.call(604800, 'pop', 'q', 'w', 1);
    await core.call(604800, 'complete', 'c', 'w', 'q', '{}');
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['b', 'c']);
    expect(await ctx.redis.exists('ql:j:a')).toBe(0);
  });

  it.each(BAD)('max-worker-age %j: workers are pruned after the default day', async (bad) => {
    await setRaw('max-worker-age', bad);
    await core.call(0, 'pop', 'q', 'old', 1);
    await core.call(50000, 'pop', 'q', 'recent', 1);
    expect((await core.json<Array<{ name: string }>>(86400, 'workers')).map((w) => w.name)).toEqual(['recent']);
  });

  it('every numeric option bad at once: a job still goes through put, pop, heartbeat, retry, fail, complete and stats', async () => {
    for (const option of ['heartbeat', 'grace-period', 'stats-history', 'histogram-history', 'jobs-history',
      'jobs-history-count', 'max-job-history', 'max-worker-age', 'q-heartbeat', 'q-max-concurrency']) {
      await setRaw(option, 'abc');
    }
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'put', 'w', 'q', 'b', 'k', '{}', 0);
    expect(await core.json<unknown[]>(1, 'pop', 'q', 'w', 2)).toHaveLength(2);
    expect(await core.call(2, 'heartbeat', 'a', 'w')).toBe(62);
    expect(await core.call(3, 'retry', 'b', 'q', 'w', 0)).toBe(4);
    expect(await core.json<unknown[]>(4, 'pop', 'q', 'w', 1)).toHaveLength(1);
    expect(await core.call(5, 'fail', 'b', 'w', 'oops', 'boom')).toBe('b');
    expect(await core.call(6, 'complete', 'a', 'w', 'q', '{}')).toBe('complete');
    const stats = await core.json<{ failed: number; run: { count: number } }>(7, 'stats', 'q', 7);
    expect([stats.failed, stats.run.count]).toEqual([1, 1]);
    expect(await core.json(8, 'workers')).toEqual([{ name: 'w', jobs: 0, stalled: 0 }]);
    expect((await core.json<Record<string, unknown>>(9, 'config.get'))['max-worker-age']).toBe('abc');
  });
});
