import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis, testJobLayout } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { testKeys } from './support/namespace.js';
import { snapshot, writeJob, zsetWithScores } from './support/raw.js';

// Tests marked skipIf(compactLayout) read the raw keys of today's job
// layout (fields holding defaults, `jid`, `time`, the -history list); in the
// core-compact project new jobs are stored otherwise, and
// test/core.compact.test.ts checks that layout's raw keys.
const compactLayout = testJobLayout() === 'compact';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Arg = string | number;
const put = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0, ...rest);
const hash = (jid: string) => ctx.redis.hgetall(`ql:j:${jid}`);
const history = (jid: string) => ctx.redis.lrange(`ql:j:${jid}-history`, 0, -1);

/** Expect the call to fail with `message` and leave the database untouched. */
async function rejects(call: () => Promise<unknown>, message: string | RegExp): Promise<void> {
  const before = await snapshot(ctx.redis);
  await expect(call()).rejects.toThrow(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

describe('put: validation (nothing is written)', () => {
  // An existing tagged job, so that a late check would show up as removed tags.
  const seed = () => core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0, 'tags', '["t"]');

  it('requires a queue, a jid and a klass, in that order', async () => {
    await seed();
    await rejects(() => core.call(1, 'put'), 'Queue(): no queue name provided');
    await rejects(() => core.call(1, 'put', 'w'), 'Queue(): no queue name provided');
    await rejects(() => core.call(1, 'put', 'w', 'q'), 'Put(): Arg "jid" missing');
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid'), 'Put(): Arg "klass" missing');
  });

  it('requires data that is JSON and not false', async () => {
    await seed();
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k'), "bad argument #1 to 'decode' (string expected, got nil)");
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k', '{]', 0), 'Expected object key string but found T_ARR_END at character 2');
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k', '', 0), /Expected value but found T_END/);
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k', 'false', 0), 'Put(): Arg "data" missing or not JSON: false');
  });

  it('requires a Lua-numeric delay', async () => {
    await seed();
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k', '{}'), 'Put(): Arg "delay" not a number: nil');
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k', '{}', 'abc'), 'Put(): Arg "delay" not a number: abc');
    await rejects(() => core.call(1, 'put', 'w', 'q', 'jid', 'k', '{}', ''), 'Put(): Arg "delay" not a number: ');
  });

  it('rejects an odd number of option arguments', async () => {
    await seed();
    await rejects(() => put(1, 'jid', 'priority'), /^put: Odd number of additional args: table: 0x/);
    await rejects(() => put(1, 'jid', 'priority', 1, 'tags'), 'Odd number of additional args: ');
  });

  it('checks retries, tags, priority and depends before touching the old job', async () => {
    await seed();
    await rejects(() => put(1, 'jid', 'retries', 'x'), 'Put(): Arg "retries" not a number: x');
    await rejects(() => put(1, 'jid', 'tags', '[1,'), /Expected value but found T_END/);
    await rejects(() => put(1, 'jid', 'tags', 'false'), 'Put(): Arg "tags" not JSONfalse');
    await rejects(() => put(1, 'jid', 'priority', 'high'), 'Put(): Arg "priority" not a numberhigh');
    await rejects(() => put(1, 'jid', 'depends', '[}'), 'Expected value but found T_OBJ_END at character 2');
    await rejects(() => put(1, 'jid', 'depends', 'false'), 'Put(): Arg "depends" not JSON: false');
    // The same texts as written by the reference are kept for the false literal;
    // the tags check comes before priority, priority before depends.
    await rejects(() => put(1, 'jid', 'tags', 'false', 'priority', 'x'), 'Put(): Arg "tags" not JSONfalse');
    await rejects(() => put(1, 'jid', 'priority', 'x', 'depends', 'false'), 'Put(): Arg "priority" not a numberx');
    await rejects(() => put(1, 'jid', 'retries', 'x', 'tags', 'false'), 'Put(): Arg "retries" not a number: x');
    expect(await ctx.redis.zscore('ql:t:t', 'jid')).toBe('0');
  });

  it('rejects tags and depends that are JSON scalars (the reference fails half-way)', async () => {
    await seed();
    for (const bad of ['"s"', '5', 'true', 'null', '""']) {
      await rejects(() => put(1, 'jid', 'tags', bad), `Put(): Arg "tags" not JSON${bad}`);
      await rejects(() => put(1, 'jid', 'depends', bad), `Put(): Arg "depends" not JSON: ${bad}`);
    }
    await rejects(() => put(1, 'jid', 'tags', '[["nested"]]'), 'Put(): Arg "tags" not JSON');
    await rejects(() => put(1, 'jid', 'depends', '[{"a":1}]'), 'Put(): Arg "depends" not JSON: ');
  });
});

// What Python, Ruby or raw clients can send that the reference took and then
// failed on half-way, or stored to fail later: refused before any write.
describe('put: raw input the reference let through', () => {
  const seed = () => core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0, 'tags', '["t"]');

  it('refuses priorities, delays and retries that are not finite numbers', async () => {
    await seed();
    for (const bad of ['nan', 'inf', '-inf', '1e400', '-nan']) {
      await rejects(() => put(1, 'jid', 'priority', bad), `Put(): Arg "priority" not a number${bad}`);
      await rejects(() => put(1, 'new', 'priority', bad), `Put(): Arg "priority" not a number${bad}`);
      await rejects(() => core.call(1, 'put', 'w', 'q', 'new', 'k', '{}', bad), `Put(): Arg "delay" not a number: ${bad}`);
      await rejects(() => put(1, 'new', 'retries', bad), `Put(): Arg "retries" not a number: ${bad}`);
    }
  });

  it.skipIf(compactLayout)('refuses negative and fractional retries', async () => {
    await seed();
    for (const bad of ['-1', '1.5', '-0.5', '1e-3']) {
      await rejects(() => put(1, 'jid', 'retries', bad), `Put(): Arg "retries" must be a non-negative integer: ${bad}`);
    }
    expect(await put(1, 'zero', 'retries', '0')).toBe('zero');
    expect(await put(1, 'hex', 'retries', '0x3')).toBe('hex');
    expect(await hash('hex')).toMatchObject({ retries: '3', remaining: '3' });
  });

  it('refuses tags and depends that are JSON objects with keys', async () => {
    await seed();
    await rejects(() => put(1, 'jid', 'tags', '{"a":1}'), 'Put(): Arg "tags" not JSON{"a":1} (must be a JSON array)');
    await rejects(() => put(1, 'jid', 'tags', '{"1":"a"}'), 'Put(): Arg "tags" not JSON{"1":"a"} (must be a JSON array)');
    await rejects(() => put(1, 'jid', 'depends', '{"a":1}'), 'Put(): Arg "depends" not JSON: {"a":1} (must be a JSON array)');
    await rejects(() => put(1, 'jid', 'depends', '"jid"'), 'Put(): Arg "depends" not JSON: "jid" (must be a JSON array)');
    await rejects(() => put(1, 'jid', 'tags', '[null]'), 'Put(): Arg "tags" not JSON[null] (must be a JSON array)');
    await rejects(() => put(1, 'jid', 'throttles', '{"a":1}'), 'Put(): Arg "throttles" not JSON: {"a":1} (must be a JSON array)');
  });

  it('refuses option names no qless client sends (after checking the known ones)', async () => {
    await seed();
    await rejects(() => put(1, 'jid', 'color', 'blue'), 'Put(): Unrecognized option "color"');
    await rejects(() => put(1, 'jid', 'priority', 1, 'Priority', 2), 'Put(): Unrecognized option "Priority"');
    await rejects(() => put(1, 'jid', 'delay', 5), 'Put(): Unrecognized option "delay"');
    await rejects(() => put(1, 'jid', 'colour', 'x', 'priority', 'high'), 'Put(): Arg "priority" not a numberhigh');
    await rejects(() => core.call(1, 'requeue', 'w', 'q', 'jid', 'k', '{}', 0, 'tgas', '[]'), 'Put(): Unrecognized option "tgas"');
  });

  it('priority nan used to leave a hash behind that broke every later get: now nothing is written', async () => {
    await rejects(() => put(1, 'p', 'priority', 'nan'), 'Put(): Arg "priority" not a numbernan');
    expect(await core.call(2, 'get', 'p')).toBeNull();
    expect(await put(3, 'p', 'priority', 2)).toBe('p');
    expect(JSON.parse((await core.call(3, 'get', 'p')) as string)).toMatchObject({ jid: 'p', priority: 2 });
  });

  it('keeps accepting what the reference accepted: negative delay, fractional priority, the empty queue name', async () => {
    expect(await core.call(0, 'put', 'w', '', 'e', 'k', '{}', -5, 'priority', '-2.5')).toBe('e');
    expect(await hash('e')).toMatchObject({ queue: '', priority: '-2.5', state: 'waiting' });
  });
});

// A jid ending in -history, -dependents or -dependencies names another job's
// key (ql:j:report-dependents is the dependents set of report).
describe('put: jids that collide with other jobs\' keys', () => {
  it.skipIf(compactLayout)('refuses jids ending in a reserved suffix, in put and requeue', async () => {
    for (const suffix of ['-history', '-dependents', '-dependencies']) {
      await rejects(() => put(0, `report${suffix}`), `Put(): Arg "jid" may not end in "${suffix}": report${suffix}`);
      await rejects(() => put(0, suffix), `Put(): Arg "jid" may not end in "${suffix}": ${suffix}`);
    }
    expect(await put(0, 'history')).toBe('history');
    expect(await put(0, 'report-historys')).toBe('report-historys');
    expect(await put(0, 'a-history-b')).toBe('a-history-b');
    await put(0, 'report', 'depends', '["a-history-b"]');
    // requeue of a key that exists (report's history list) is refused too.
    await rejects(() => core.call(1, 'requeue', 'w', 'q', 'report-history', 'k', '{}', 0),
      'Put(): Arg "jid" may not end in "-history": report-history');
  });

  it('the reported sequence: put report, put report-dependents, put summary --depends report', async () => {
    await put(0, 'report');
    await rejects(() => put(1, 'report-dependents'), 'Put(): Arg "jid" may not end in "-dependents": report-dependents');
    expect(await put(2, 'summary', 'depends', '["report"]')).toBe('summary');
    expect(await hash('summary')).toMatchObject({ state: 'depends' });
    expect(await ctx.redis.smembers('ql:j:report-dependents')).toEqual(['summary']);
  });

  it('checks the type of every key it will write before the first write (data left by an older core)', async () => {
    // The core names keys as they are: in the core-namespace project, ql:{orders}:….
    const ql = testKeys().prefix;
    // An older core took the jid report-dependents and stored a hash where
    // report's dependents set belongs.
    await put(0, 'report');
    await writeJob(ctx.redis, 'report-dependents');
    await rejects(() => put(1, 'summary', 'depends', '["report"]'),
      `Put(): Key ${ql}j:report-dependents is a hash, not a set (it belongs to a job whose jid ends in a reserved suffix)`);
    await rejects(() => put(1, 'summary', 'depends', '["other","report"]'), `Put(): Key ${ql}j:report-dependents is a hash, not a set`);
    // The job's own keys: its history key holds another job's hash.
    await writeJob(ctx.redis, 'x-history');
    await rejects(() => put(2, 'x'), `Put(): Key ${ql}j:x-history is a hash, not a list`);
    await ctx.redis.set('ql:j:y', 'not a hash');
    await rejects(() => put(2, 'y'), `Put(): Key ${ql}j:y is a string, not a hash`);
    // A depended-on jid whose own key holds something else than a job.
    await ctx.redis.rpush('ql:j:listy', 'x');
    await rejects(() => put(2, 'z', 'depends', '["listy"]'), `Put(): Key ${ql}j:listy is a list, not a hash`);
  });
});

describe('put: a new job', () => {
  it.skipIf(compactLayout)('writes the hash, history, work set and queue list exactly', async () => {
    const now = 1700000000.123456;
    expect(await core.call(now, 'put', 'w', 'q', 'jid', 'klass', '{"foo": "bar"}', 0, 'priority', 5)).toBe('jid');
    expect(await hash('jid')).toEqual({
      jid: 'jid', klass: 'klass', data: '{"foo": "bar"}', priority: '5', tags: '{}', state: 'waiting',
      worker: '', expires: '0', queue: 'q', retries: '5', remaining: '5',
      time: '1700000000.12345600128173828125',
    });
    expect(await history('jid')).toEqual(['[1700000000,"put",{"q":"q"}]']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['jid', '4.8299999999876544']]);
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q', '1700000000.123456']]);
    expect(await ctx.redis.exists('ql:workers')).toBe(0);
  });

  it.skipIf(compactLayout)('uses retries 5, priority 0 and no tags by default, and scores work as -now/1e10', async () => {
    await put(100, 'jid');
    const job = await hash('jid');
    expect([job.retries, job.remaining, job.priority, job.tags, job.time]).toEqual(['5', '5', '0', '{}', '100.00000000000000000000']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-work')).toEqual([['jid', '-1e-08']]);
  });

  // The core prints most times itself (two 10-digit halves of the fraction)
  // rather than with printf's %.20f: the texts must be printf's, exact
  // halves rounded to the even digit (JavaScript's toFixed rounds them up),
  // and times outside 2^23 .. 2^53 still printf's own.
  it.skipIf(compactLayout)('writes time as printf\'s %.20f, exact halves rounded to even', async () => {
    const cases: Array<[number, string]> = [
      [2147483648 + 1 / 2097152, '2147483648.00000047683715820312'],
      [2147483648 + 3 / 2097152, '2147483648.00000143051147460938'],
      [1700000000.123, '1700000000.12299990653991699219'],
      [8388608 + 1 / 536870912, '8388608.00000000186264514923'],
      [16777216 - 1 / 268435456, '16777215.99999999627470970154'],
      [8388607.5, '8388607.50000000000000000000'],
      [1234.5678, '1234.56780000000003383320'],
      [4503599627370495.5, '4503599627370495.50000000000000000000'],
    ];
    for (const [i, [now, text]] of cases.entries()) {
      await put(now, `jid-${i}`);
      expect([now, (await hash(`jid-${i}`)).time]).toEqual([now, text]);
    }
  });

  it('reads a number argument the same when its text comes again, also after a thousand others', async () => {
    // (Number arguments' texts are remembered across calls, a thousand at most.)
    await put(1, 'a', 'priority', '7', 'retries', '3');
    await put(2, 'b', 'priority', '7', 'retries', '3');
    for (let i = 0; i < 1001; i++) await put(3, `other-${i}`, 'priority', `${i}.5`);
    await put(4, 'c', 'priority', '7', 'retries', '3');
    for (const jid of ['a', 'b', 'c']) {
      const job = JSON.parse((await core.call(5, 'get', jid)) as string) as { priority: number; retries: number };
      expect([jid, job.priority, job.retries]).toEqual([jid, 7, 3]);
    }
    await rejects(() => put(6, 'd', 'priority', 'inf'), 'Put(): Arg "priority" not a number');
    await rejects(() => put(6, 'd', 'priority', '7x'), 'Put(): Arg "priority" not a number');
  });

  it('accepts any JSON data except false and stores it verbatim', async () => {
    for (const [jid, data] of [['a', 'null'], ['b', '5'], ['c', '"s"'], ['d', '[]'], ['e', '{ "x" : [ 1 ] }']] as const) {
      await core.call(0, 'put', 'w', 'q', jid, 'k', data, 0);
      expect(await ctx.redis.hget(`ql:j:${jid}`, 'data')).toBe(data);
    }
  });

  it.skipIf(compactLayout)('stores options in normalised numeric form; last duplicate wins', async () => {
    await put(0, 'jid', 'priority', '0x10', 'retries', ' 2 ', 'priority', '1e1');
    const job = await hash('jid');
    expect([job.priority, job.retries, job.remaining]).toEqual(['10', '2', '2']);
    expect(await ctx.redis.zscore('ql:q:q-work', 'jid')).toBe('10');
  });

  it('accepts every option name a qless client sends, storing only what this core uses', async () => {
    await put(0, 'jid', 'priority', 1, 'tags', '["t"]', 'retries', 3, 'depends', '[]', 'throttles', '["api"]',
      'resources', '["db"]', 'replace', 1, 'interval', 0.5);
    expect(await hash('jid')).toMatchObject({ priority: '1', tags: '["t"]', retries: '3', state: 'waiting',
      throttles: '["api","ql:q:q"]' });
    expect(await hash('jid')).not.toHaveProperty('resources');
  });

  it('indexes tags (duplicates counted twice) and stores them re-encoded', async () => {
    await put(7, 'jid', 'tags', '["a", "a/b", "a"]');
    expect(await ctx.redis.hget('ql:j:jid', 'tags')).toBe('["a","a\\/b","a"]');
    expect(await zsetWithScores(ctx.redis, 'ql:t:a')).toEqual([['jid', '7']]);
    expect(await zsetWithScores(ctx.redis, 'ql:t:a/b')).toEqual([['jid', '7']]);
    expect(await zsetWithScores(ctx.redis, 'ql:tags')).toEqual([['a/b', '1'], ['a', '2']]);
  });

  it.skipIf(compactLayout)('stores tags [] as {}, and takes {} (how cjson writes an empty list) as no tags', async () => {
    await put(0, 'jid', 'tags', '[]');
    expect(await ctx.redis.hget('ql:j:jid', 'tags')).toBe('{}');
    await put(0, 'jid2', 'tags', '{}', 'depends', '{}');
    expect(await ctx.redis.hget('ql:j:jid2', 'tags')).toBe('{}');
  });

  it('schedules a positive delay (hex and exponent too) and ignores a negative one', async () => {
    await put(10, 'a', 'priority', 1);
    await core.call(10, 'put', 'w', 'q', 's', 'k', '{}', '0x10');
    await core.call(10, 'put', 'w', 'q', 'e', 'k', '{}', '1.5e1');
    await core.call(10, 'put', 'w', 'q', 'n', 'k', '{}', -5);
    expect(await ctx.redis.hget('ql:j:s', 'state')).toBe('scheduled');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-scheduled')).toEqual([['e', '25'], ['s', '26']]);
    expect(await ctx.redis.hget('ql:j:n', 'state')).toBe('waiting');
    expect(await ctx.redis.zrevrange('ql:q:q-work', 0, -1)).toEqual(['a', 'n']);
  });

  it('accepts the empty string as a queue name', async () => {
    await core.call(3, 'put', 'w', '', 'jid', 'k', '{}', 0);
    expect(await ctx.redis.hget('ql:j:jid', 'queue')).toBe('');
    expect(await ctx.redis.zrange('ql:q:-work', 0, -1)).toEqual(['jid']);
    expect(await ctx.redis.zrange('ql:queues', 0, -1)).toEqual(['']);
  });

  it('keeps the first-seen score of a queue', async () => {
    await put(5, 'a');
    await put(9, 'b');
    await core.call(7, 'put', 'w', 'other', 'c', 'k', '{}', 0);
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q', '5'], ['other', '7']]);
  });
});

describe('put: an existing job', () => {
  it.skipIf(compactLayout)('keeps retries, priority and tags when not given, and resets remaining and time', async () => {
    await put(0, 'jid', 'retries', 3, 'priority', 4, 'tags', '["x"]');
    await ctx.redis.hset('ql:j:jid', 'remaining', '1');
    await core.call(20, 'put', 'w', 'q', 'jid', 'k2', '{"v":2}', 0);
    const job = await hash('jid');
    expect([job.klass, job.data, job.retries, job.remaining, job.priority, job.tags]).toEqual(['k2', '{"v":2}', '3', '3', '4', '["x"]']);
    expect(job.time).toBe('20.00000000000000000000');
    // A plain re-put is neutral for the tag counters but refreshes the score.
    expect(await ctx.redis.zscore('ql:tags', 'x')).toBe('1');
    expect(await ctx.redis.zscore('ql:t:x', 'jid')).toBe('20');
    expect(await history('jid')).toEqual(['[0,"put",{"q":"q"}]', '[20,"put",{"q":"q"}]']);
  });

  it('replaces tags: old ones are un-indexed, new ones indexed', async () => {
    await put(0, 'jid', 'tags', '["old","both"]');
    await put(5, 'jid', 'tags', '["both","new"]');
    expect(await ctx.redis.zscore('ql:t:old', 'jid')).toBeNull();
    expect(await zsetWithScores(ctx.redis, 'ql:tags')).toEqual([['old', '0'], ['both', '1'], ['new', '1']]);
    expect(await ctx.redis.hget('ql:j:jid', 'tags')).toBe('["both","new"]');
  });

  it.skipIf(compactLayout)('moves the job out of every set of its old queue', async () => {
    await core.call(0, 'put', 'w', 'old', 'jid', 'k', '{}', 0);
    await core.call(1, 'pop', 'old', 'w1', 1);
    await core.call(2, 'put', 'w2', 'new', 'jid', 'k', '{}', 30);
    for (const set of ['work', 'locks', 'scheduled', 'depends']) {
      expect(await ctx.redis.exists(`ql:q:old-${set}`)).toBe(0);
    }
    expect(await ctx.redis.exists('ql:w:w1:jobs')).toBe(0);
    const job = await hash('jid');
    expect([job.state, job.queue, job.worker, job.expires]).toEqual(['scheduled', 'new', '', '0']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:new-scheduled')).toEqual([['jid', '32']]);
  });

  it('takes a completed job out of retention', async () => {
    await put(0, 'jid');
    await core.call(1, 'pop', 'q', 'w', 1);
    await core.call(2, 'complete', 'jid', 'w', 'q', '{}');
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['jid']);
    await put(3, 'jid');
    expect(await ctx.redis.exists('ql:completed')).toBe(0);
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('waiting');
  });

  it('takes a failed job out of its group, decrements failed in the TARGET queue and keeps failure', async () => {
    const failDay = 2 * 86400;
    await put(0, 'jid');
    await put(0, 'other');
    await core.call(1, 'pop', 'q', 'w', 2);
    await core.call(failDay + 5, 'fail', 'jid', 'w', 'grp', 'boom');
    await core.call(failDay + 6, 'fail', 'other', 'w', 'grp', 'boom');
    await core.call(5 * 86400, 'put', 'w', 'q2', 'jid', 'k', '{}', 0);
    expect(await ctx.redis.lrange('ql:f:grp', 0, -1)).toEqual(['other']);
    expect(await ctx.redis.smembers('ql:failures')).toEqual(['grp']);
    expect(await ctx.redis.hgetall(`ql:s:stats:${failDay}:q2`)).toEqual({ failed: '-1' });
    expect(await ctx.redis.hgetall(`ql:s:stats:${failDay}:q`)).toEqual({ failures: '2', failed: '2' });
    expect(JSON.parse((await ctx.redis.hget('ql:j:jid', 'failure'))!)).toEqual({ group: 'grp', message: 'boom', when: failDay + 5, worker: 'w' });
    await core.call(5 * 86400, 'put', 'w', 'q', 'other', 'k', '{}', 0);
    expect(await ctx.redis.exists('ql:f:grp')).toBe(0);
    expect(await ctx.redis.exists('ql:failures')).toBe(0);
  });

  it('leaves grace, scheduled and spawned_from_jid fields alone', async () => {
    await put(0, 'jid');
    await ctx.redis.hset('ql:j:jid', 'grace', '1', 'spawned_from_jid', 'tmpl', 'scheduled', '99');
    await put(1, 'jid');
    const job = await hash('jid');
    expect([job.grace, job.spawned_from_jid, job.scheduled]).toEqual(['1', 'tmpl', '99']);
  });
});

describe('requeue', () => {
  it('requires a jid, then an existing job', async () => {
    await rejects(() => core.call(0, 'requeue', 'w', 'q'), 'Job(): no jid provided');
    await rejects(() => core.call(0, 'requeue'), 'Job(): no jid provided');
    await rejects(() => core.call(0, 'requeue', 'w', 'q', 'nope', 'k', '{}', 0), 'Requeue(): Job nope does not exist');
  });

  it.skipIf(compactLayout)('behaves like put for an existing job, validation included', async () => {
    await put(0, 'jid', 'priority', 3);
    await core.call(1, 'pop', 'q', 'w', 1);
    await rejects(() => core.call(2, 'requeue', 'w', 'q', 'jid', 'k', 'false', 0), 'Put(): Arg "data" missing or not JSON: false');
    await rejects(() => core.call(2, 'requeue', 'w', 'q', 'jid', 'k', '{}', 0, 'x'), 'Odd number of additional args');
    expect(await core.call(2, 'requeue', 'w', 'q2', 'jid', 'k', '{}', 0)).toBe('jid');
    const job = await hash('jid');
    expect([job.state, job.queue, job.priority, job.worker]).toEqual(['waiting', 'q2', '3', '']);
    expect(await ctx.redis.exists('ql:q:q-locks')).toBe(0);
    expect(await history('jid')).toEqual(['[0,"put",{"q":"q"}]', '[1,"popped",{"worker":"w"}]', '[2,"put",{"q":"q2"}]']);
  });
});
