import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis, testJobLayout } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot } from './support/raw.js';

// Tests marked skipIf(compactLayout) read the raw keys of today's job
// layout (fields holding defaults, `jid`, `time`, the -history list); in the
// core-compact project new jobs are stored otherwise, and
// test/core.compact.test.ts checks that layout's raw keys.
const compactLayout = testJobLayout() === 'compact';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Entry = Record<string, unknown>;
const put = (now: number, jid: string) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0);
const historyOf = async (jid: string) => (JSON.parse((await core.call(0, 'get', jid)) as string) as { history: Entry[] }).history;
const raw = (jid: string) => ctx.redis.lrange(`ql:j:${jid}-history`, 0, -1);

describe('log', () => {
  it('validates (data before the lookup) and writes nothing', async () => {
    await put(0, 'jid');
    const before = await snapshot(ctx.redis);
    await expect(core.call(1, 'log')).rejects.toThrow("Log(): Argument 'jid' missing");
    await expect(core.call(1, 'log', 'jid')).rejects.toThrow("Log(): Argument 'message' missing");
    await expect(core.call(1, 'log', 'nope', 'm', '{]')).rejects.toThrow('Expected object key string but found T_ARR_END at character 2');
    await expect(core.call(1, 'log', 'nope', 'm', 'false')).rejects.toThrow("Log(): Argument 'data' not cjson: false");
    await expect(core.call(1, 'log', 'nope', 'm')).rejects.toThrow('Log(): Job nope does not exist');
    // Scalars would break every later read of the job (§4.1), so they are refused.
    for (const scalar of ['5', '"s"', 'true', 'null']) {
      await expect(core.call(1, 'log', 'jid', 'm', scalar)).rejects.toThrow(`Log(): Argument 'data' not cjson: ${scalar}`);
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it.skipIf(compactLayout)('appends the message, with the data\'s keys, at floor(now)', async () => {
    await put(0, 'jid');
    expect(await core.call(5.9, 'log', 'jid', 'checkpoint')).toBeNull();
    await core.call(6, 'log', 'jid', 'progress', '{"pct": 50, "when": 1, "what": "x", "url": "a/b"}');
    await core.call(7, 'log', 'jid', 'list', '["x","y"]');
    await core.call(8, 'log', 'jid', 'empty', '{}');
    expect((await raw('jid')).slice(1, 2)).toEqual(['[5,"checkpoint"]']);
    expect((await raw('jid'))[4]).toBe('[8,"empty",{}]');
    expect(await historyOf('jid')).toEqual([
      { when: 0, what: 'put', q: 'q' },
      { when: 5, what: 'checkpoint' },
      { when: 6, what: 'progress', pct: 50, url: 'a/b' },
      { when: 7, what: 'list', 1: 'x', 2: 'y' },
      { when: 8, what: 'empty' },
    ]);
  });

  it('works in any state, complete included', async () => {
    await put(0, 'jid');
    await core.call(1, 'pop', 'q', 'w', 1);
    await core.call(2, 'complete', 'jid', 'w', 'q', '{}');
    await core.call(3, 'log', 'jid', 'after');
    expect((await historyOf('jid')).map((e) => e['what'])).toEqual(['put', 'popped', 'done', 'after']);
  });
});

describe('history length limit (max-job-history)', () => {
  async function appendMany(limit: string | null, count: number): Promise<number[]> {
    if (limit !== null) await ctx.redis.hset('ql:config', 'max-job-history', limit);
    for (let t = 0; t < count; t++) await put(t, 'jid');
    return (await historyOf('jid')).map((e) => e['when'] as number);
  }

  it('keeps the first entry plus the newest N-1 (spec example: N=5, 100 puts)', async () => {
    expect(await appendMany('5', 100)).toEqual([0, 96, 97, 98, 99]);
  });

  it('defaults to 100 entries', async () => {
    const whens = await appendMany(null, 105);
    expect(whens.length).toBe(100);
    expect(whens.slice(0, 2)).toEqual([0, 6]);
  });

  it('N=3 keeps three', async () => {
    expect(await appendMany('3', 9)).toEqual([0, 7, 8]);
  });

  it('N=2 never truncates (quirk)', async () => {
    expect(await appendMany('2', 9)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('N=1 keeps the first and the newest entry (quirk)', async () => {
    expect(await appendMany('1', 9)).toEqual([0, 8]);
  });

  it('N <= 0 means no limit', async () => {
    expect((await appendMany('0', 9)).length).toBe(9);
    await ctx.redis.del('ql:j:jid', 'ql:j:jid-history');
    expect((await appendMany('-3', 7)).length).toBe(7);
  });

  it('trims only when appending', async () => {
    await appendMany(null, 6);
    await ctx.redis.hset('ql:config', 'max-job-history', '3');
    expect((await historyOf('jid')).length).toBe(6);
    await core.call(10, 'log', 'jid', 'now');
    expect((await historyOf('jid')).map((e) => e['when'])).toEqual([0, 5, 10]);
  });
});

describe('legacy history migration', () => {
  const legacy = JSON.stringify([
    { q: 'q', put: 10.5, popped: 11.2, worker: 'w', failed: 12.9 },
    { q: 'q2', put: 20, done: 25.5 },
  ]);
  const migrated = [
    { when: 10, what: 'put', q: 'q' },
    { when: 11, what: 'popped', worker: 'w' },
    { when: 12, what: 'failed' },
    { when: 20, what: 'put', q: 'q2' },
    { when: 25, what: 'done' },
  ];

  async function writeLegacyJob(): Promise<void> {
    await ctx.redis.hset('ql:j:old', {
      jid: 'old', klass: 'k', data: '{}', priority: '0', tags: '{}', state: 'complete', worker: '',
      expires: '0', queue: '', retries: '5', remaining: '5', history: legacy,
    });
  }

  it('get converts the old field into list entries and deletes it', async () => {
    await writeLegacyJob();
    expect(await historyOf('old')).toEqual(migrated);
    expect(await ctx.redis.hexists('ql:j:old', 'history')).toBe(0);
    expect(await raw('old')).toEqual([
      '[10,"put",{"q":"q"}]', '[11,"popped",{"worker":"w"}]', '[12,"failed"]', '[20,"put",{"q":"q2"}]', '[25,"done"]',
    ]);
    expect(await historyOf('old')).toEqual(migrated);
  });

  it('an append migrates first, after entries the list already held', async () => {
    await writeLegacyJob();
    await ctx.redis.rpush('ql:j:old-history', '[1,"put",{"q":"x"}]');
    await core.call(30, 'log', 'old', 'hello');
    expect(await historyOf('old')).toEqual([{ when: 1, what: 'put', q: 'x' }, ...migrated, { when: 30, what: 'hello' }]);
  });

  it('a put of a legacy job migrates before appending its put entry', async () => {
    await writeLegacyJob();
    await put(40, 'old');
    expect(await historyOf('old')).toEqual([...migrated, { when: 40, what: 'put', q: 'q' }]);
  });
});
