import { beforeEach, describe, expect, it } from 'vitest';
import { useRedis, testJobLayout } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { snapshot, writeJob, zsetWithScores } from './support/raw.js';
import type { CoreArg } from '../src/gateway.js';

// Tests marked skipIf(compactLayout) read the raw keys of today's job
// layout (fields holding defaults, `jid`, `time`, the -history list); in the
// core-compact project new jobs are stored otherwise, and
// test/core.compact.test.ts checks that layout's raw keys.
const compactLayout = testJobLayout() === 'compact';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

/** The call fails with `message` and leaves every key as it was. */
async function rejectsCleanly(now: number, command: string, args: CoreArg[], message: string | RegExp): Promise<void> {
  const before = await snapshot(ctx.redis);
  await expect(core.call(now, command, ...args)).rejects.toThrow(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

const template = async (jid: string) => ctx.redis.hgetall(`ql:r:${jid}`);
const nextRun = async (queue: string, jid: string) => ctx.redis.zscore(`ql:q:${queue}-recur`, jid);

interface Job {
  jid: string;
  time?: number;
  history: Array<{ when: number; what: string; q?: string }>;
  [key: string]: unknown;
}

describe('recur: validation (nothing written on failure)', () => {
  const cases: Array<[string, CoreArg[], string | RegExp]> = [
    ['queue missing', [], 'Queue(): no queue name provided'],
    ['jid missing', ['q'], 'RecurringJob On(): Arg "jid" missing'],
    ['klass missing', ['q', 'j'], 'RecurringJob On(): Arg "klass" missing'],
    ['spec missing (data given)', ['q', 'j', 'k', '{}'], 'RecurringJob On(): Arg "spec" missing'],
    ['spec missing beats bad data', ['q', 'j', 'k', '[}'], 'RecurringJob On(): Arg "spec" missing'],
    ['data not JSON', ['q', 'j', 'k', '[}', 'interval', 60, 0], 'Expected value but found T_OBJ_END at character 2'],
    ['data not JSON beats bad spec', ['q', 'j', 'k', '{', 'cron'], /Expected|T_END|character/],
    ['data false', ['q', 'j', 'k', 'false', 'interval', 60, 0], 'RecurringJob On(): Arg "data" not JSON: false'],
    ['spec unknown', ['q', 'j', 'k', '{}', 'every', 60, 0], 'Recur(): schedule type "every" unknown'],
    ['spec is case-sensitive', ['q', 'j', 'k', '{}', 'INTERVAL', 60, 0], 'Recur(): schedule type "INTERVAL" unknown'],
    ['interval missing', ['q', 'j', 'k', '{}', 'interval'], 'Recur(): Arg "interval" not a number: nil'],
    ['interval not numeric', ['q', 'j', 'k', '{}', 'interval', 'abc', 0], 'Recur(): Arg "interval" not a number: abc'],
    ['interval empty', ['q', 'j', 'k', '{}', 'interval', '', 0], 'Recur(): Arg "interval" not a number: '],
    ['offset missing', ['q', 'j', 'k', '{}', 'interval', 60], 'Recur(): Arg "offset" not a number: nil'],
    ['offset not numeric', ['q', 'j', 'k', '{}', 'interval', 60, 'x'], 'Recur(): Arg "offset" not a number: x'],
    ['offset checked before interval > 0', ['q', 'j', 'k', '{}', 'interval', 0, 'x'], 'Recur(): Arg "offset" not a number: x'],
    ['interval 0', ['q', 'j', 'k', '{}', 'interval', 0, 0], 'Recur(): Arg "interval" must be greater than 0'],
    ['interval negative', ['q', 'j', 'k', '{}', 'interval', -5, 0], 'Recur(): Arg "interval" must be greater than 0'],
    ['interval ≤ 0 beats odd args', ['q', 'j', 'k', '{}', 'interval', -1, 0, 'tags'], 'Recur(): Arg "interval" must be greater than 0'],
    ['option without value', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags'], /Odd number of additional args: table: 0x[0-9a-f]+/],
    ['odd count beats bad option', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 'x', 'retries'], /Odd number of additional args: table: /],
    ['tags not JSON', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', '[}'], 'Expected value but found T_OBJ_END at character 2'],
    ['tags false', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', 'false'], 'Recur(): Arg "tags" must be JSON string array: false'],
    ['priority not numeric', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 'high'], 'Recur(): Arg "priority" not a number: high'],
    ['retries not numeric', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'retries', 'many'], 'Recur(): Arg "retries" not a number: many'],
    ['backlog not numeric', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'backlog', ''], 'Recur(): Arg "backlog" not a number: '],
    ['tags before priority', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 'x', 'tags', 'false'], 'Arg "tags" must be JSON'],
    ['priority before retries', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'retries', 'x', 'priority', 'y'], 'Arg "priority" not a number: y'],
    ['retries before backlog', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'backlog', 'x', 'retries', 'y'], 'Arg "retries" not a number: y'],
    ['a later duplicate is the one checked', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 1, 'priority', 'z'], 'Arg "priority" not a number: z'],
    // What the reference let through, and failed on later or spawned without bound.
    ['interval nan', ['q', 'j', 'k', '{}', 'interval', 'nan', 0], 'Recur(): Arg "interval" not a number: nan'],
    ['interval inf', ['q', 'j', 'k', '{}', 'interval', 'inf', 0], 'Recur(): Arg "interval" not a number: inf'],
    ['offset nan', ['q', 'j', 'k', '{}', 'interval', 60, 'nan'], 'Recur(): Arg "offset" not a number: nan'],
    ['offset -inf', ['q', 'j', 'k', '{}', 'interval', 60, '-inf'], 'Recur(): Arg "offset" not a number: -inf'],
    ['priority inf', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 'inf'], 'Recur(): Arg "priority" not a number: inf'],
    ['retries nan', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'retries', 'nan'], 'Recur(): Arg "retries" not a number: nan'],
    ['retries negative', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'retries', -1], 'Recur(): Arg "retries" must be a non-negative integer: -1'],
    ['retries fractional', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'retries', 2.5], 'Recur(): Arg "retries" must be a non-negative integer: 2.5'],
    ['backlog negative', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'backlog', -1], 'Recur(): Arg "backlog" must be a non-negative integer: -1'],
    ['backlog fractional', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'backlog', 0.5], 'Recur(): Arg "backlog" must be a non-negative integer: 0.5'],
    ['tags an object', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', '{"a": 1}'], 'Recur(): Arg "tags" must be JSON string array: {"a": 1}'],
    ['tags a string', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', '"x"'], 'Recur(): Arg "tags" must be JSON string array: "x"'],
    ['tags a number', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', '1'], 'Recur(): Arg "tags" must be JSON string array: 1'],
    ['tags true', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', 'true'], 'Recur(): Arg "tags" must be JSON string array: true'],
    ['tags null', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', 'null'], 'Recur(): Arg "tags" must be JSON string array: null'],
    ['throttles an object', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'throttles', '{"a":1}'], 'Recur(): Arg "throttles" not JSON: {"a":1} (must be a JSON array)'],
    ['an unknown option', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'unknown', 'ignored'], 'Recur(): Unrecognized option "unknown"'],
    ['a known option checked first', ['q', 'j', 'k', '{}', 'interval', 60, 0, 'colour', 'x', 'priority', 'y'], 'Recur(): Arg "priority" not a number: y'],
    ['jid ending in -history', ['q', 'r-history', 'k', '{}', 'interval', 60, 0], 'Recur(): Arg "jid" may not end in "-history": r-history'],
    ['jid ending in -dependents', ['q', 'r-dependents', 'k', '{}', 'interval', 60, 0], 'Recur(): Arg "jid" may not end in "-dependents": r-dependents'],
    ['jid ending in -dependencies', ['q', 'r-dependencies', 'k', '{}', 'interval', 60, 0], 'Recur(): Arg "jid" may not end in "-dependencies": r-dependencies'],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    await rejectsCleanly(0, 'recur', args, message);
  });

  it('leaves an existing template untouched when a re-recur is rejected', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await rejectsCleanly(5, 'recur', ['other', 'j', 'k2', '{}', 'interval', 60, 0, 'retries', 'x'], 'Arg "retries" not a number: x');
    await rejectsCleanly(5, 'recur', ['other', 'j', 'k2', '{}', 'interval', 0, 0], 'must be greater than 0');
  });
});

describe('recur', () => {
  it('writes the template hash, schedules now + offset and remembers the queue', async () => {
    expect(await core.call(100, 'recur', 'queue', 'jid', 'klass', '{"a": [1, 2]}', 'interval', 60, 5)).toBe('jid');
    expect(await template('jid')).toEqual({
      jid: 'jid',
      klass: 'klass',
      data: '{"a": [1, 2]}',
      priority: '0',
      tags: '{}',
      state: 'recur',
      queue: 'queue',
      type: 'interval',
      count: '0',
      interval: '60',
      retries: '0',
      backlog: '0',
    });
    expect(await zsetWithScores(ctx.redis, 'ql:q:queue-recur')).toEqual([['jid', '105']]);
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['queue', '100']]);
    // Tags are not indexed until jobs spawn.
    expect(await ctx.redis.keys('ql:t*')).toEqual([]);
  });

  it('stores options in normalised numeric form and re-encodes tags', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '[]', 'interval', '0x10', ' 2 ',
      'priority', '1e1', 'retries', ' 3', 'backlog', '0x2', 'tags', '[ "a" , "b/c", 1 ]');
    expect(await template('j')).toMatchObject({
      data: '[]',
      priority: '10',
      retries: '3',
      backlog: '2',
      interval: '16',
      tags: '["a","b\\/c",1]',
    });
    expect(await nextRun('q', 'j')).toBe('2');
  });

  it('takes the last of duplicate options and stores [] tags as {}', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 1, 'tags', '["x"]', 'priority', 2, 'tags', '[]');
    expect(await template('j')).toMatchObject({ priority: '2', tags: '{}' });
  });

  it('accepts JSON null data, the empty queue name and the empty jid', async () => {
    expect(await core.call(0, 'recur', '', '', 'k', 'null', 'interval', 1, 0)).toBe('');
    expect(await template('')).toMatchObject({ jid: '', queue: '', data: 'null' });
    expect(await nextRun('', '')).toBe('0');
  });

  it('stores fractional scores and numbers', async () => {
    await core.call(100.7, 'recur', 'q', 'j', 'k', '{}', 'interval', 0.5, 0.2, 'priority', 100.9);
    expect(await template('j')).toMatchObject({ interval: '0.5', priority: '100.90000000000001' });
    expect(Number(await nextRun('q', 'j'))).toBe(100.7 + 0.2);
  });

  it('accepts every option name a qless client sends, and {} as no tags', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 1, 'tags', '{}', 'retries', 2,
      'backlog', 3, 'throttles', '["api"]', 'resources', '["db"]');
    expect(await template('j')).toMatchObject({ priority: '1', tags: '{}', retries: '2', backlog: '3',
      throttles: '["api","ql:q:q"]' });
  });

  it('shows non-array tags that an older core stored (objects and scalars) as they are', async () => {
    for (const [jid, tags] of [['o', '{"a":1}'], ['s', '"x"'], ['z', 'null']] as const) {
      await core.call(0, 'recur', 'q', jid, 'k', '{}', 'interval', 60, 0);
      await ctx.redis.hset(`ql:r:${jid}`, 'tags', tags);
    }
    expect((await core.json<{ tags: unknown }>(0, 'recur.get', 's')).tags).toBe('x');
    expect((await core.json<{ tags: unknown }>(0, 'recur.get', 'o')).tags).toEqual({ a: 1 });
    expect((await core.json<{ tags: unknown }>(0, 'recur.get', 'z')).tags).toBeNull();
  });

  it('re-recurring replaces everything, keeps count, moves the queue and reschedules', async () => {
    await core.call(0, 'recur', 'q1', 'j', 'k', '{}', 'interval', 60, 0, 'priority', 5, 'tags', '["a"]', 'retries', 2, 'backlog', 3);
    await ctx.redis.hset('ql:r:j', 'count', '7');
    await core.call(50, 'recur', 'q2', 'j', 'k2', '[1]', 'interval', 30, 10);
    expect(await template('j')).toEqual({
      jid: 'j',
      klass: 'k2',
      data: '[1]',
      priority: '0',
      tags: '{}',
      state: 'recur',
      queue: 'q2',
      type: 'interval',
      count: '7',
      interval: '30',
      retries: '0',
      backlog: '0',
    });
    expect(await ctx.redis.exists('ql:q:q1-recur')).toBe(0);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q2-recur')).toEqual([['j', '60']]);
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q1', '0'], ['q2', '50']]);
    // Same queue again: ql:queues keeps the first-seen time.
    await core.call(70, 'recur', 'q1', 'j', 'k', '{}', 'interval', 60, 0);
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q1', '0'], ['q2', '50']]);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q1-recur')).toEqual([['j', '70']]);
    expect(await ctx.redis.exists('ql:q:q2-recur')).toBe(0);
  });

  it('lets a template and a job share a jid', async () => {
    await writeJob(ctx.redis, 'same');
    await core.call(0, 'recur', 'q', 'same', 'k', '{}', 'interval', 60, 0);
    expect(await ctx.redis.hget('ql:j:same', 'state')).toBe('waiting');
    expect(await ctx.redis.hget('ql:r:same', 'state')).toBe('recur');
  });
});

describe('unrecur', () => {
  it('requires a jid', async () => {
    await rejectsCleanly(0, 'unrecur', [], 'Recurring(): no jid provided');
  });

  it('replies 1 also when nothing existed', async () => {
    expect(await core.call(0, 'unrecur', 'nope')).toBe(1);
    expect(await snapshot(ctx.redis)).toEqual({});
  });

  it('removes the template and its schedule but leaves spawned jobs and ql:queues', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'recur', 'q', 'other', 'k', '{}', 'interval', 60, 0);
    await writeJob(ctx.redis, 'j-1', { fields: { spawned_from_jid: 'j' } });
    expect(await core.call(0, 'unrecur', 'j')).toBe(1);
    expect(await ctx.redis.exists('ql:r:j')).toBe(0);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-recur')).toEqual([['other', '0']]);
    expect(await ctx.redis.hget('ql:j:j-1', 'state')).toBe('waiting');
    expect(await ctx.redis.zscore('ql:queues', 'q')).toBe('0');
    expect(await core.call(0, 'recur.get', 'j')).toBeNull();
  });
});

describe('recur.get', () => {
  it('requires a jid and replies nil without a template', async () => {
    await expect(core.call(0, 'recur.get')).rejects.toThrow('Recurring(): no jid provided');
    expect(await core.call(0, 'recur.get', 'nope')).toBeNull();
  });

  it('follows the spec example', async () => {
    expect(await core.call(0, 'recur', 'queue', 'jid', 'klass', '{}', 'interval', 60, 0)).toBe('jid');
    const reply = (await core.call(0, 'recur.get', 'jid')) as string;
    expect(JSON.parse(reply)).toEqual({
      tags: {},
      jid: 'jid',
      retries: 0,
      data: '{}',
      queue: 'queue',
      state: 'recur',
      count: 0,
      interval: 60,
      klass: 'klass',
      backlog: 0,
      priority: 0,
    });
    expect(reply).toMatch(/"tags":\{\}/);
    expect(reply).toMatch(/"data":"\{\}"/);
  });

  it('shows data as text, numbers as numbers, tags decoded; no type nor next run', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '[]', 'interval', 1.5, 0, 'tags', '["a","b"]', 'priority', -3, 'retries', 2, 'backlog', 4);
    await ctx.redis.hset('ql:r:j', 'count', '12');
    expect(await core.json(0, 'recur.get', 'j')).toEqual({
      jid: 'j',
      klass: 'k',
      state: 'recur',
      queue: 'q',
      data: '[]',
      priority: -3,
      interval: 1.5,
      retries: 2,
      count: 12,
      tags: ['a', 'b'],
      backlog: 4,
    });
  });

  it('shows backlog 0 when a template (written by an older core) has none', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await ctx.redis.hdel('ql:r:j', 'backlog');
    expect((await core.json<{ backlog: number }>(0, 'recur.get', 'j')).backlog).toBe(0);
  });
});

describe('recur.update', () => {
  beforeEach(async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
  });

  it('checks the jid, then the template (even without pairs)', async () => {
    await rejectsCleanly(0, 'recur.update', [], 'Recurring(): no jid provided');
    await rejectsCleanly(0, 'recur.update', ['nope'], 'Recur(): No recurring job nope');
    await rejectsCleanly(0, 'recur.update', ['nope', 'priority', 'x'], 'Recur(): No recurring job nope');
  });

  it('replies 1 and changes nothing without pairs', async () => {
    const before = await snapshot(ctx.redis);
    expect(await core.call(0, 'recur.update', 'j')).toBe(1);
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('rejects a field without a value before looking at the field name', async () => {
    await rejectsCleanly(0, 'recur.update', ['j', 'priority'], 'No value provided for priority');
    await rejectsCleanly(0, 'recur.update', ['j', 'bogus'], 'No value provided for bogus');
  });

  it('rejects bad values and unknown (case-sensitive) fields', async () => {
    await rejectsCleanly(0, 'recur.update', ['j', 'priority', 'x'], 'Recur(): Arg "priority" must be a number: x');
    await rejectsCleanly(0, 'recur.update', ['j', 'retries', ''], 'Recur(): Arg "retries" must be a number: ');
    await rejectsCleanly(0, 'recur.update', ['j', 'interval', 'y'], 'Recur(): Arg "interval" must be a number: y');
    await rejectsCleanly(0, 'recur.update', ['j', 'backlog', 'z'], 'Recur(): Arg "backlog" not a number: z');
    await rejectsCleanly(0, 'recur.update', ['j', 'data', '[}'], 'Expected value but found T_OBJ_END at character 2');
    await rejectsCleanly(0, 'recur.update', ['j', 'data', 'false'], 'Recur(): Arg "data" is not JSON-encoded: false');
    await rejectsCleanly(0, 'recur.update', ['j', 'PRIORITY', '1'], 'Recur(): Unrecognized option "PRIORITY"');
    await rejectsCleanly(0, 'recur.update', ['j', 'tags', '["a"]'], 'Recur(): Unrecognized option "tags"');
  });

  // The reference took these, and an interval of 0, -5 or nan then made every
  // pop spawn as many children as it could.
  it('rejects numbers the reference took: an interval that is not positive, non-finite values, bad counts', async () => {
    for (const bad of [0, -5, '-0.5']) {
      await rejectsCleanly(0, 'recur.update', ['j', 'interval', bad], 'Recur(): Arg "interval" must be greater than 0');
    }
    for (const bad of ['nan', 'inf', '-inf']) {
      await rejectsCleanly(0, 'recur.update', ['j', 'interval', bad], `Recur(): Arg "interval" must be a number: ${bad}`);
      await rejectsCleanly(0, 'recur.update', ['j', 'priority', bad], `Recur(): Arg "priority" must be a number: ${bad}`);
      await rejectsCleanly(0, 'recur.update', ['j', 'retries', bad], `Recur(): Arg "retries" must be a number: ${bad}`);
      await rejectsCleanly(0, 'recur.update', ['j', 'backlog', bad], `Recur(): Arg "backlog" not a number: ${bad}`);
    }
    await rejectsCleanly(0, 'recur.update', ['j', 'retries', -1], 'Recur(): Arg "retries" must be a non-negative integer: -1');
    await rejectsCleanly(0, 'recur.update', ['j', 'backlog', 1.5], 'Recur(): Arg "backlog" must be a non-negative integer: 1.5');
    await rejectsCleanly(0, 'recur.update', ['j', 'throttles', '"api"'], 'Recur(): Arg "throttles" not JSON: "api" (must be a JSON array)');
    expect(await core.call(0, 'recur.update', 'j', 'throttles', '["api"]')).toBe(1);
    expect(await template('j')).toMatchObject({ throttles: '["api"]' });
  });

  it('checks every pair before writing any (the reference wrote each pair before checking the next)', async () => {
    await rejectsCleanly(0, 'recur.update', ['j', 'priority', 5, 'klass', 'k2', 'retries', 'x', 'backlog', 3],
      'Recur(): Arg "retries" must be a number: x');
    await rejectsCleanly(0, 'recur.update', ['j', 'backlog', 2, 'nope', 1], 'Recur(): Unrecognized option "nope"');
    await rejectsCleanly(0, 'recur.update', ['j', 'queue', 'q2', 'interval', -1], 'Recur(): Arg "interval" must be greater than 0');
    await rejectsCleanly(0, 'recur.update', ['j', 'priority', 6, 'retries'], 'No value provided for retries');
  });

  it('applies pairs left to right, each seeing the ones before it', async () => {
    expect(await core.call(0, 'recur.update', 'j', 'interval', 10, 'queue', 'q2', 'interval', 20)).toBe(1);
    // -50 after the first shift, moved to q2, then shifted by 20 - 10.
    expect(await nextRun('q2', 'j')).toBe('-40');
    expect(await template('j')).toMatchObject({ interval: '20', queue: 'q2' });
  });

  it('updates every field, normalising numbers; later duplicates win', async () => {
    expect(
      await core.call(0, 'recur.update', 'j', 'priority', '0x10', 'retries', ' 4 ', 'backlog', '1e1', 'data', '{"x": 1}',
        'klass', 'other', 'priority', -1.5),
    ).toBe(1);
    expect(await template('j')).toMatchObject({
      priority: '-1.5',
      retries: '4',
      backlog: '10',
      data: '{"x": 1}',
      klass: 'other',
      interval: '60',
      queue: 'q',
      tags: '{}',
    });
    await core.call(0, 'recur.update', 'j', 'data', 'null');
    expect((await template('j')).data).toBe('null');
  });

  it('shifts the next run by the change of interval (before any spawn: below 0)', async () => {
    expect(await core.call(0, 'recur.update', 'j', 'interval', 10)).toBe(1);
    expect(await nextRun('q', 'j')).toBe('-50');
    expect((await template('j')).interval).toBe('10');
    await core.call(0, 'recur.update', 'j', 'interval', '0x20');
    expect(await nextRun('q', 'j')).toBe('-28');
    expect((await template('j')).interval).toBe('32');
  });

  it('shifts the score in the current queue after a queue move', async () => {
    await core.call(0, 'recur.update', 'j', 'queue', 'q2', 'interval', 90);
    expect(await ctx.redis.exists('ql:q:q-recur')).toBe(0);
    expect(await nextRun('q2', 'j')).toBe('30');
  });

  it('moves the template to another queue keeping the next run; learns the new queue', async () => {
    await core.call(0, 'recur', 'q', 'other', 'k', '{}', 'interval', 60, 0);
    await ctx.redis.zadd('ql:q:q-recur', 123.5, 'j');
    expect(await core.call(40, 'recur.update', 'j', 'queue', 'q2')).toBe(1);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-recur')).toEqual([['other', '0']]);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q2-recur')).toEqual([['j', '123.5']]);
    expect((await template('j')).queue).toBe('q2');
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q', '0'], ['q2', '40']]);
    // Back to a known queue: its first-seen time stays.
    await core.call(50, 'recur.update', 'j', 'queue', 'q');
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q', '0'], ['q2', '40']]);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-recur')).toEqual([['other', '0'], ['j', '123.5']]);
  });

  it('publishes nothing', async () => {
    await core.call(0, 'recur.update', 'j', 'priority', 1, 'queue', 'x', 'interval', 5);
    await core.call(0, 'recur.tag', 'j', 'a');
    await core.call(0, 'recur.untag', 'j', 'a');
    await core.call(0, 'recur.get', 'j');
    await core.call(0, 'recur', 'q', 'j2', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'unrecur', 'j');
    expect(await events.settle()).toEqual([]);
  });
});

describe('recur.tag / recur.untag', () => {
  it('check the jid and the template', async () => {
    await rejectsCleanly(0, 'recur.tag', [], 'Recurring(): no jid provided');
    await rejectsCleanly(0, 'recur.untag', [], 'Recurring(): no jid provided');
    await rejectsCleanly(0, 'recur.tag', ['nope', 'a'], 'Tag(): Job nope does not exist');
    await rejectsCleanly(0, 'recur.untag', ['nope', 'a'], 'Untag(): Job nope does not exist');
    // A job is not a template.
    await writeJob(ctx.redis, 'job');
    await rejectsCleanly(0, 'recur.tag', ['job', 'a'], 'Tag(): Job job does not exist');
  });

  it('recur.tag appends tags the template lacked before the call (duplicates in the call twice)', async () => {
    await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0, 'tags', '["a","b"]');
    expect(await core.call(0, 'recur.tag', 'r', 'c', 'a', 'c')).toBe('["a","b","c","c"]');
    expect((await template('r')).tags).toBe('["a","b","c","c"]');
    expect(await core.call(0, 'recur.tag', 'r')).toBe('["a","b","c","c"]');
    expect(await core.call(0, 'recur.tag', 'r', 'c', 'd/e')).toBe('["a","b","c","c","d\\/e"]');
    // Only the template changes.
    expect(await ctx.redis.keys('ql:t*')).toEqual([]);
  });

  it('recur.tag on an empty list replies {} with no tags given', async () => {
    await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0);
    expect(await core.call(0, 'recur.tag', 'r')).toBe('{}');
    expect(await core.call(0, 'recur.tag', 'r', 'x')).toBe('["x"]');
  });

  it('recur.untag removes every occurrence, ignores unknown tags and keeps order', async () => {
    await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0, 'tags', '["a","b","a","c"]');
    expect(await core.call(0, 'recur.untag', 'r', 'a', 'zzz')).toBe('["b","c"]');
    expect((await template('r')).tags).toBe('["b","c"]');
    expect(await core.call(0, 'recur.untag', 'r', 'c', 'b')).toBe('{}');
    expect((await template('r')).tags).toBe('{}');
    expect(await core.call(0, 'recur.untag', 'r')).toBe('{}');
    expect(await ctx.redis.keys('ql:t*')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Spawning (inside pop and peek, which part 1 provides)
// ---------------------------------------------------------------------------


function childHash(jid: string, n: number, over: Record<string, string> = {}): Record<string, string> {
  return {
    jid: `${jid}-${n}`,
    klass: 'k',
    data: '{}',
    priority: '0',
    tags: '{}',
    state: 'waiting',
    worker: '',
    expires: '0',
    queue: 'q',
    retries: '0',
    remaining: '0',
    time: '0.00000000000000000000',
    spawned_from_jid: jid,
    ...over,
  };
}

const peekJids = async (now: number, queue: string, count: number): Promise<string[]> => {
  const reply = await core.json<Job[] | Record<string, never>>(now, 'peek', queue, count);
  return Array.isArray(reply) ? reply.map((j) => j.jid) : [];
};
const popJids = async (now: number, queue: string, worker: string, count: number): Promise<string[]> => {
  const reply = await core.json<Job[] | Record<string, never>>(now, 'pop', queue, worker, count);
  return Array.isArray(reply) ? reply.map((j) => j.jid) : [];
};
const waiting = async (queue = 'q') => ctx.redis.zrevrange(`ql:q:${queue}-work`, 0, -1);
const firstHistory = async (jid: string) => JSON.parse((await ctx.redis.lindex(`ql:j:${jid}-history`, 0))!) as unknown[];

describe('spawning during pop and peek', () => {
  it('follows the spec example pop result for a child', async () => {
    await core.call(0, 'recur', 'queue', 'jid', 'klass', '{}', 'interval', 60, 0);
    const [child] = await core.json<Job[]>(0, 'pop', 'queue', 'worker', 1);
    expect(child).toEqual({
      jid: 'jid-1',
      klass: 'klass',
      state: 'running',
      queue: 'queue',
      worker: 'worker',
      expires: 60,
      priority: 0,
      retries: 0,
      remaining: 0,
      data: '{}',
      tags: {},
      tracked: false,
      failure: {},
      spawned_from_jid: 'jid',
      dependents: {},
      dependencies: {},
      history: [
        { when: 0, q: 'queue', what: 'put' },
        { when: 0, what: 'popped', worker: 'worker' },
      ],
    });
  });

  it.skipIf(compactLayout)('writes the child hash, history, work score, count and next run (peek writes too)', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{"a":1}', 'interval', 60, 0, 'priority', 3, 'retries', 2, 'tags', '["t1","t2"]');
    expect(await peekJids(125, 'q', 10)).toEqual(['j-1', 'j-2', 'j-3']);
    expect(await ctx.redis.hgetall('ql:j:j-2')).toEqual(
      childHash('j', 2, {
        data: '{"a":1}',
        priority: '3',
        retries: '2',
        remaining: '2',
        tags: '["t1","t2"]',
        time: '60.00000000000000000000',
      }),
    );
    expect(await ctx.redis.lrange('ql:j:j-2-history', 0, -1)).toEqual(['[60,"put",{"q":"q"}]']);
    const scores = await zsetWithScores(ctx.redis, 'ql:q:q-work');
    expect(Object.fromEntries(scores.map(([m, s]) => [m, Number(s)]))).toEqual({
      'j-1': 3 - 0 / 1e10,
      'j-2': 3 - 60 / 1e10,
      'j-3': 3 - 120 / 1e10,
    });
    expect((await template('j')).count).toBe('3');
    expect(await nextRun('q', 'j')).toBe('180');
    // Tag index: scored with the call's now, counted per child.
    expect(await zsetWithScores(ctx.redis, 'ql:t:t1')).toEqual([['j-1', '125'], ['j-2', '125'], ['j-3', '125']]);
    expect(await ctx.redis.zscore('ql:tags', 't1')).toBe('3');
    expect(await ctx.redis.zscore('ql:tags', 't2')).toBe('3');
    // ql:queues is not touched by spawning.
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q', '0']]);
  });

  it('spawns ten jobs stamped 0, 60, ..., 540 for a pop of 100 at 599', async () => {
    await core.call(0, 'recur', 'q', 'jid', 'k', '{}', 'interval', 60, 0);
    const popped = await core.json<Job[]>(599, 'pop', 'q', 'w', 100);
    expect(popped.map((j) => j.jid)).toEqual(Array.from({ length: 10 }, (_, i) => `jid-${i + 1}`));
    expect(popped.map((j) => j.history[0]!.when)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540]);
    expect(await nextRun('q', 'jid')).toBe('600');
    // Wait statistics measure from the occurrence time.
    const stats = await core.json<{ wait: { count: number; mean: number } }>(599, 'stats', 'q', 599);
    expect(stats.wait.count).toBe(10);
    expect(stats.wait.mean).toBe(599 - 270);
  });

  it('shares the budget between templates, earliest next occurrence first', async () => {
    await core.call(0, 'recur', 'q', 'b', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'recur', 'q', 'a', 'k', '{}', 'interval', 60, 30);
    expect(await popJids(200, 'q', 'w', 5)).toEqual(['b-1', 'a-1', 'b-2', 'b-3', 'b-4']);
    expect(await nextRun('q', 'a')).toBe('90');
    expect(await nextRun('q', 'b')).toBe('240');
  });

  it('resumes exactly where a budget cut-off stopped', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 10, 0);
    expect(await peekJids(35, 'q', 2)).toEqual(['j-1', 'j-2']);
    expect(await nextRun('q', 'j')).toBe('20');
    expect(await peekJids(35, 'q', 2)).toEqual(['j-1', 'j-2']);
    expect(await waiting()).toHaveLength(4);
    expect(await nextRun('q', 'j')).toBe('40');
  });

  it.skipIf(compactLayout)('drops the fraction of the score for good', async () => {
    await core.call(100.7, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0.2);
    expect(await peekJids(100.8, 'q', 5)).toEqual([]);
    expect(await peekJids(100.95, 'q', 5)).toEqual(['j-1']);
    expect(await ctx.redis.hget('ql:j:j-1', 'time')).toBe('100.00000000000000000000');
    expect(await firstHistory('j-1')).toEqual([100, 'put', { q: 'q' }]);
    expect(await nextRun('q', 'j')).toBe('160');
  });

  it.skipIf(compactLayout)('limits catch-up with backlog (interval 60, backlog 1)', async () => {
    await core.call(0, 'recur', 'q', 'a', 'k', '{}', 'interval', 60, 0, 'backlog', 1);
    await core.call(0, 'recur', 'q2', 'b', 'k', '{}', 'interval', 60, 0, 'backlog', 1);
    expect(await popJids(600, 'q', 'w', 10)).toEqual(['a-1', 'a-2']);
    expect(await firstHistory('a-1')).toEqual([540, 'put', { q: 'q' }]);
    expect(await firstHistory('a-2')).toEqual([600, 'put', { q: 'q' }]);
    expect(await nextRun('q', 'a')).toBe('660');
    expect(await peekJids(630, 'q2', 10)).toEqual(['b-1']);
    expect(await ctx.redis.hget('ql:j:b-1', 'time')).toBe('600.00000000000000000000');
    expect(await nextRun('q2', 'b')).toBe('660');
  });

  it('spawns nothing with a negative backlog (stored by an older core) and keeps the stored score', async () => {
    await core.call(0, 'recur', 'q', 'neg', 'k', '{}', 'interval', 60, 0);
    await ctx.redis.hset('ql:r:neg', 'backlog', '-1');
    await core.call(0, 'recur', 'q', 'later', 'k', '{}', 'interval', 60, 10);
    // The negative-backlog template uses up the only slot of a budget of 1.
    expect(await peekJids(100, 'q', 1)).toEqual([]);
    expect(await nextRun('q', 'neg')).toBe('0');
    expect(await peekJids(100, 'q', 2)).toEqual(['later-1', 'later-2']);
    expect((await template('neg')).count).toBe('0');
  });

  it('follows the interval-update example: six jobs at 10..60 after shrinking to 10', async () => {
    await core.call(0, 'recur', 'q', 'jid', 'k', '{}', 'interval', 60, 0);
    expect(await peekJids(0, 'q', 1)).toEqual(['jid-1']);
    expect(await nextRun('q', 'jid')).toBe('60');
    await core.call(0, 'recur.update', 'jid', 'interval', 10);
    expect(await nextRun('q', 'jid')).toBe('10');
    const popped = await core.json<Job[]>(60, 'pop', 'q', 'w', 10);
    expect(popped.map((j) => [j.jid, j.history[0]!.when])).toEqual([
      ['jid-1', 0],
      ['jid-2', 10],
      ['jid-3', 20],
      ['jid-4', 30],
      ['jid-5', 40],
      ['jid-6', 50],
      ['jid-7', 60],
    ]);
  });

  it('never spawns a template whose score went below 0 (still counted by queues)', async () => {
    await core.call(0, 'recur', 'q', 'jid', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'recur.update', 'jid', 'interval', 10);
    expect(await peekJids(1000, 'q', 10)).toEqual([]);
    expect(await popJids(1000, 'q', 'w', 10)).toEqual([]);
    expect(await ctx.redis.exists('ql:j:jid-1')).toBe(0);
    expect(await core.call(1000, 'jobs', 'recurring', 'q')).toEqual([]);
    const queues = await core.json<Array<{ name: string; recurring: number }>>(1000, 'queues');
    expect(queues.find((q) => q.name === 'q')?.recurring).toBe(1);
  });

  // recur.update took an interval of 0, -10 or nan, after which every pop and
  // peek spawned as many children as it could; such a template, stored by an
  // older core, now spawns nothing (and, like a negative backlog, uses up a
  // slot of the budget).
  it.each(['0', '-10', 'nan', 'inf'])('spawns nothing from a template stored with interval %s', async (interval) => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await ctx.redis.hset('ql:r:j', 'interval', interval);
    await core.call(0, 'recur', 'q', 'ok', 'k', '{}', 'interval', 60, 5);
    expect(await peekJids(10, 'q', 3)).toEqual(['ok-1']);
    expect(await popJids(100, 'q', 'w', 5)).toEqual(['ok-1', 'ok-2']);
    expect((await template('j')).count).toBe('0');
    expect(await nextRun('q', 'j')).toBe('0');
  });

  it.skipIf(compactLayout)('catches up on a negative offset; never spawns when now + offset < 0', async () => {
    await core.call(1000, 'recur', 'q', 'a', 'k', '{}', 'interval', 100, -250);
    await core.call(1000, 'recur', 'q2', 'b', 'k', '{}', 'interval', 100, -250, 'backlog', 1);
    await core.call(10, 'recur', 'q3', 'c', 'k', '{}', 'interval', 100, -20);
    expect(await popJids(1000, 'q', 'w', 10)).toEqual(['a-1', 'a-2', 'a-3']);
    expect((await Promise.all(['a-1', 'a-2', 'a-3'].map(firstHistory))).map((h) => h[0])).toEqual([750, 850, 950]);
    expect(await peekJids(1000, 'q2', 10)).toEqual(['b-1']);
    expect(await ctx.redis.hget('ql:j:b-1', 'time')).toBe('950.00000000000000000000');
    expect(await nextRun('q3', 'c')).toBe('-10');
    expect(await popJids(1000, 'q3', 'w', 10)).toEqual([]);
  });

  it('spawns regardless of jobs already waiting: a peek of 3 with one waiting child spawns three', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 10, 0);
    expect(await peekJids(0, 'q', 1)).toEqual(['j-1']);
    expect(await peekJids(100, 'q', 3)).toEqual(['j-1', 'j-2', 'j-3']);
    expect(await waiting()).toHaveLength(4);
  });

  it('a pop of 1 behind a higher-priority job still spawns a due child', async () => {
    await core.call(0, 'put', 'w', 'q', 'high', 'k', '{}', 0, 'priority', 10);
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    expect(await popJids(0, 'q', 'w', 1)).toEqual(['high']);
    expect(await waiting()).toEqual(['j-1']);
  });

  it('spawns nothing for a count of 0 (and refuses a negative one)', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'pop', 'q', 'w', 0);
    await core.call(0, 'peek', 'q', 0);
    await expect(core.call(0, 'pop', 'q', 'w', -1)).rejects.toThrow('value is not an integer or out of range');
    await expect(core.call(0, 'peek', 'q', -1)).rejects.toThrow('value is not an integer or out of range');
    expect((await template('j')).count).toBe('0');
  });

  it('pop on a paused queue spawns nothing; peek still spawns', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'pause', 'q');
    expect(await core.call(0, 'pop', 'q', 'w', 5)).toBe('{}');
    expect(await ctx.redis.exists('ql:j:j-1')).toBe(0);
    expect(await peekJids(0, 'q', 5)).toEqual(['j-1']);
  });

  it('pop reduces the budget only by jobs reclaimed from expired locks', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'pop', 'q', 'w1', 1);
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 1, 0);
    // Default grace period: the first pop after expiry only warns, so the
    // whole budget of 2 goes to spawning.
    expect(await popJids(100, 'q', 'w2', 2)).toEqual(['j-1', 'j-2']);
    // After the grace period the lock is reclaimed: budget 2 - 1.
    expect(await popJids(111, 'q', 'w2', 2)).toEqual(['a', 'j-3']);
    expect((await template('j')).count).toBe('3');
  });

  it('peek reduces the budget by the expired locks it lists', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'pop', 'q', 'w1', 1);
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 1, 0);
    expect(await peekJids(100, 'q', 3)).toEqual(['a', 'j-1', 'j-2']);
    expect((await template('j')).count).toBe('2');
  });

  it('spawns nothing when max-concurrency cuts the pop to 0', async () => {
    await core.call(0, 'config.set', 'q-max-concurrency', 1);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'pop', 'q', 'w', 1);
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    expect(await core.call(1, 'pop', 'q', 'w', 5)).toBe('{}');
    expect((await template('j')).count).toBe('0');
  });

  it('only looks at the popped queue, and a moved template spawns into its new queue', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await core.call(0, 'recur', 'other', 'o', 'k', '{}', 'interval', 60, 0);
    expect(await peekJids(0, 'q', 5)).toEqual(['j-1']);
    await core.call(0, 'recur.update', 'j', 'queue', 'q2');
    expect(await peekJids(60, 'q2', 5)).toEqual(['j-2']);
    expect(await ctx.redis.hget('ql:j:j-2', 'queue')).toBe('q2');
    expect(await ctx.redis.hget('ql:j:j-1', 'queue')).toBe('q');
    expect(await ctx.redis.exists('ql:j:o-1')).toBe(0);
  });

  it.skipIf(compactLayout)('uses updated priority, retries, klass and data for later children only', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await peekJids(0, 'q', 1);
    await core.call(0, 'recur.update', 'j', 'priority', 7, 'retries', 3, 'klass', 'K2', 'data', '[1]');
    await peekJids(60, 'q', 2);
    expect(await ctx.redis.hgetall('ql:j:j-1')).toEqual(childHash('j', 1));
    expect(await ctx.redis.hgetall('ql:j:j-2')).toEqual(
      childHash('j', 2, { klass: 'K2', data: '[1]', priority: '7', retries: '3', remaining: '3', time: '60.00000000000000000000' }),
    );
    expect(Number(await ctx.redis.zscore('ql:q:q-work', 'j-2'))).toBe(7 - 60 / 1e10);
  });

  it('copies object tags (stored by an older core) verbatim and indexes nothing for them', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await ctx.redis.hset('ql:r:j', 'tags', '{"a":1}');
    await peekJids(0, 'q', 1);
    expect(await ctx.redis.hget('ql:j:j-1', 'tags')).toBe('{"a":1}');
    expect(await ctx.redis.keys('ql:t*')).toEqual([]);
  });

  it('indexes numeric tag elements under their text', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0, 'tags', '[1,"x"]');
    await peekJids(0, 'q', 1);
    expect(await ctx.redis.hget('ql:j:j-1', 'tags')).toBe('[1,"x"]');
    expect(await zsetWithScores(ctx.redis, 'ql:t:1')).toEqual([['j-1', '0']]);
    expect(await ctx.redis.zscore('ql:tags', '1')).toBe('1');
  });

  it('numbers children in plain decimal (byte order is not numeric order)', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 1, 0);
    await peekJids(10, 'q', 11);
    expect((await ctx.redis.keys('ql:j:j-*')).filter((k) => !k.endsWith('history')).sort()).toEqual(
      ['ql:j:j-1', 'ql:j:j-10', 'ql:j:j-11', 'ql:j:j-2', 'ql:j:j-3', 'ql:j:j-4', 'ql:j:j-5', 'ql:j:j-6', 'ql:j:j-7', 'ql:j:j-8', 'ql:j:j-9'],
    );
    // Re-recurring keeps numbering.
    await core.call(20, 'recur', 'q', 'j', 'k', '{}', 'interval', 1, 0);
    await peekJids(20, 'q', 1);
    expect(await ctx.redis.exists('ql:j:j-12')).toBe(1);
  });

  it('applies max-job-history to the child history', async () => {
    await core.call(0, 'config.set', 'max-job-history', 3);
    await ctx.redis.rpush('ql:j:j-1-history', '[0,"put",{"q":"x"}]', '[1,"a"]', '[2,"b"]', '[3,"c"]');
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await peekJids(5, 'q', 1);
    expect(await ctx.redis.lrange('ql:j:j-1-history', 0, -1)).toEqual(['[0,"put",{"q":"x"}]', '[3,"c"]', '[0,"put",{"q":"q"}]']);
  });

  it('publishes nothing, even for a tracked child name', async () => {
    await core.call(0, 'recur', 'q', 'j', 'k', '{}', 'interval', 60, 0);
    await writeJob(ctx.redis, 'j-1');
    await core.call(0, 'track', 'track', 'j-1');
    await events.settle();
    events.clear();
    await peekJids(0, 'q', 3);
    expect(await events.settle()).toEqual([]);
  });

  describe('child name collision after unrecur + recur', () => {
    it.skipIf(compactLayout)('overwrites a completed job, appends to its history and leaves it in ql:completed', async () => {
      await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0, 'tags', '["old"]');
      expect(await popJids(0, 'q', 'w', 1)).toEqual(['r-1']);
      expect(await core.call(1, 'complete', 'r-1', 'w', 'q', '{}')).toBe('complete');
      await core.call(2, 'unrecur', 'r');
      await core.call(100, 'recur', 'q', 'r', 'k2', '{"n":1}', 'interval', 60, 0, 'tags', '["new"]');
      expect(await peekJids(100, 'q', 1)).toEqual(['r-1']);
      expect(await ctx.redis.hgetall('ql:j:r-1')).toEqual({
        ...childHash('r', 1, { klass: 'k2', data: '{"n":1}', tags: '["new"]', time: '100.00000000000000000000' }),
        failure: '{}',
      });
      expect((await ctx.redis.lrange('ql:j:r-1-history', 0, -1)).map((e) => JSON.parse(e))).toEqual([
        [0, 'put', { q: 'q' }],
        [0, 'popped', { worker: 'w' }],
        [1, 'done'],
        [100, 'put', { q: 'q' }],
      ]);
      expect(await ctx.redis.zscore('ql:completed', 'r-1')).toBe('1');
      // The old tag stays indexed and counted.
      expect(await zsetWithScores(ctx.redis, 'ql:t:old')).toEqual([['r-1', '0']]);
      expect(await ctx.redis.zscore('ql:tags', 'old')).toBe('1');
      expect(await zsetWithScores(ctx.redis, 'ql:t:new')).toEqual([['r-1', '100']]);
    });

    it.skipIf(compactLayout)('overwrites a running job: its worker is told it lost it, and its lock goes', async () => {
      await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0);
      await popJids(0, 'q', 'w', 1);
      await core.call(1, 'unrecur', 'r');
      await core.call(10, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0);
      await events.settle();
      events.clear();
      await peekJids(10, 'q', 1);
      expect(await ctx.redis.hget('ql:j:r-1', 'state')).toBe('waiting');
      expect(await ctx.redis.hget('ql:j:r-1', 'worker')).toBe('');
      expect(await ctx.redis.zscore('ql:q:q-locks', 'r-1')).toBeNull();
      expect(await ctx.redis.zscore('ql:w:w:jobs', 'r-1')).toBeNull();
      expect(await waiting()).toEqual(['r-1']);
      const lost = '{"jid":"r-1","event":"lock_lost","worker":"w"}';
      expect(await events.settle()).toEqual([{ channel: 'ql:w:w', message: lost }, { channel: 'ql:log', message: lost }]);
      await expect(core.call(11, 'heartbeat', 'r-1', 'w')).rejects.toThrow('Heartbeat(): Job r-1 not currently running: waiting');
    });
  });

  // recur refuses them now; templates an older core stored with them still fail as they did.
  describe('templates with tags that are neither array nor object', () => {
    const recurWithTags = async (now: number, queue: string, jid: string, offset: number, tags: string) => {
      await core.call(now, 'recur', queue, jid, 'k', '{}', 'interval', 60, offset);
      await ctx.redis.hset(`ql:r:${jid}`, 'tags', tags);
    };

    it.each([
      ['"x"', 'string'],
      ['1', 'number'],
      ['true', 'boolean'],
      ['null', 'userdata'],
    ])('tags %s make every due pop/peek fail after the count increment', async (tags, type) => {
      await recurWithTags(0, 'q', 'bad', 0, tags);
      const message = `bad argument #1 to 'ipairs' (table expected, got ${type})`;
      await expect(core.call(0, 'peek', 'q', 5)).rejects.toThrow(message);
      expect((await template('bad')).count).toBe('1');
      expect(await ctx.redis.exists('ql:j:bad-1')).toBe(0);
      await expect(core.call(0, 'pop', 'q', 'w', 5)).rejects.toThrow(message);
      expect((await template('bad')).count).toBe('2');
      // Writes made before the failure stay: the worker was registered.
      expect(await ctx.redis.zscore('ql:workers', 'w')).toBe('0');
      expect(await nextRun('q', 'bad')).toBe('0');
    });

    it.skipIf(compactLayout)('keeps earlier templates’ children, resumes numbering after re-recur and restarts after unrecur', async () => {
      await core.call(0, 'recur', 'q', 'a', 'k', '{}', 'interval', 10, 0);
      await recurWithTags(0, 'q', 'bad', 5, '"x"');
      await expect(core.call(20, 'peek', 'q', 10)).rejects.toThrow("bad argument #1 to 'ipairs'");
      expect(await waiting()).toEqual(['a-1', 'a-2', 'a-3']);
      await expect(core.call(20, 'peek', 'q', 10)).rejects.toThrow("bad argument #1 to 'ipairs'");
      expect((await template('bad')).count).toBe('2');
      await core.call(20, 'recur', 'q', 'bad', 'k', '{}', 'interval', 60, 0, 'tags', '["ok"]');
      await peekJids(20, 'q', 10);
      expect(await ctx.redis.hget('ql:j:bad-3', 'tags')).toBe('["ok"]');
      await core.call(30, 'unrecur', 'bad');
      await core.call(30, 'recur', 'q', 'bad', 'k', '{}', 'interval', 60, 0);
      await peekJids(30, 'q', 10);
      expect(await ctx.redis.hget('ql:j:bad-1', 'time')).toBe('30.00000000000000000000');
    });
  });
});
