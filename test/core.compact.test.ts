/**
 * The compact job layout (config option job-layout = compact): the raw keys
 * a job stored that way has, that every reply and event is the same as for
 * a job in today's layout, and jobs that live through a change of the
 * option (put in one layout, worked on with the other one set).
 */
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { flushTestDb, snapshot, writeJob } from './support/raw.js';
import { nameMap, testKeys } from './support/namespace.js';
import type { CoreArg, CoreReply } from '../src/gateway.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

type Layout = 'spec' | 'compact';
type Call = [number, string, ...CoreArg[]];

async function setLayout(layout: Layout | undefined): Promise<void> {
  if (layout === undefined) await core.call(0, 'config.unset', 'job-layout');
  else await core.call(0, 'config.set', 'job-layout', layout);
}

/** A job's raw hash, and its history list (empty when there is none). */
const hash = (jid: string) => ctx.redis.hgetall(`ql:j:${jid}`);
const historyList = (jid: string) => ctx.redis.lrange(`ql:j:${jid}-history`, 0, -1);
/** A key's encoding (OBJECT takes its key after a subcommand: named here in the test namespace). */
const encoding = (key: string) => ctx.redis.object('ENCODING', nameMap(testKeys()).inward(key));

/**
 * Run `calls` on an empty database with new jobs stored in `layout`: every
 * reply (an error as its message) and every event, in order.
 */
async function run(layout: Layout, calls: Call[]): Promise<{ replies: unknown[]; events: string[] }> {
  await flushTestDb(ctx.redis);
  await setLayout(layout);
  await events.settle(20);
  events.clear();
  const replies: unknown[] = [];
  for (const [now, command, ...args] of calls) {
    try {
      replies.push(await core.call(now, command, ...args));
    } catch (error) {
      replies.push(`error: ${(error as Error).message}`);
    }
  }
  const heard = (await events.settle(20)).map((m) => `${m.channel} ${m.message}`);
  return { replies, events: heard };
}

/** The same calls in both layouts must give the same replies and events. */
async function sameInBothLayouts(calls: Call[]): Promise<CoreReply[]> {
  const spec = await run('spec', calls);
  const compact = await run('compact', calls);
  expect(compact.replies).toEqual(spec.replies);
  expect(compact.events).toEqual(spec.events);
  return compact.replies as CoreReply[];
}

const put = (now: number, jid: string, ...rest: CoreArg[]): Call => [now, 'put', 'w', 'q', jid, 'k.K', '{"i":1}', 0, ...rest];

describe('the compact layout: raw keys', () => {
  it('stores a waiting job without defaults, jid, history key or history: its put entry is implicit', async () => {
    await setLayout('compact');
    await core.call(100.5, 'put', 'w', 'q', 'j', 'k.K', '{"i":1}', 0);
    expect(await hash('j')).toEqual({
      klass: 'k.K',
      data: '{"i":1}',
      state: 'waiting',
      queue: 'q',
      time: '100.5',
      hn: 'p',
    });
    expect(JSON.parse(String(await core.call(101, 'get', 'j'))).history).toEqual([{ when: 100, what: 'put', q: 'q' }]);
    expect(await ctx.redis.exists('ql:j:j-history')).toBe(0);
    // A small hash stays a listpack, the point of the layout.
    expect(await encoding('ql:j:j')).toBe('listpack');
  });

  it('keeps the options that are not defaults, and remaining only when it differs from retries', async () => {
    await setLayout('compact');
    await core.call(1, 'put', 'w', 'q', 'j', 'k', '{}', 0, 'priority', 3, 'retries', 2, 'tags', '["a"]');
    expect(await hash('j')).toMatchObject({ priority: '3', retries: '2', tags: '["a"]' });
    expect((await hash('j')).remaining).toBeUndefined();
    await core.call(2, 'pop', 'q', 'w1', 1);
    expect(await hash('j')).toMatchObject({ state: 'running', worker: 'w1', hn: '2', h2: 'o2:w1' });
    expect(await core.call(3, 'retry', 'j', 'q', 'w1')).toBe(1);
    expect((await hash('j')).remaining).toBe('1');
    // A re-put resets remaining to retries, and drops priority 0 and no tags.
    await core.call(4, 'put', 'w', 'q', 'j', 'k', '{}', 0, 'priority', 0, 'tags', '[]');
    const job = await hash('j');
    expect([job.priority, job.tags, job.remaining, job.retries, job.worker, job.expires]).toEqual([undefined, undefined, undefined, '2', undefined, undefined]);
  });

  it('completes and fails without storing the emptied fields (nor the time, of a completed job)', async () => {
    await setLayout('compact');
    await core.call(1, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(1, 'put', 'w', 'q', 'b', 'k', '{}', 0);
    await core.call(2, 'pop', 'q', 'w1', 2);
    await core.call(3, 'complete', 'a', 'w1', 'q', '{"done":1}');
    expect(await hash('a')).toEqual({
      klass: 'k', data: '{"done":1}', state: 'complete', queue: '',
      hn: '3', h1: 'p1:q', h2: 'o2:w1', h3: 'd3',
    });
    await core.call(3, 'fail', 'b', 'w1', 'grp', 'broke');
    const b = await hash('b');
    expect([b.state, b.worker, b.expires, b.jid]).toEqual(['failed', undefined, undefined, undefined]);
    expect(JSON.parse(b.failure!)).toEqual({ group: 'grp', message: 'broke', when: 3, worker: 'w1' });
  });

  it('moves the history to the list for an entry too long for a listpack, for good', async () => {
    await setLayout('compact');
    await core.call(1, 'put', 'w', 'q', 'j', 'k', '{}', 0);
    await core.call(2, 'log', 'j', 'short');
    await core.call(3, 'log', 'j', 'long', JSON.stringify({ text: 'x'.repeat(80) }));
    await core.call(4, 'log', 'j', 'after');
    const job = await hash('j');
    expect(Object.keys(job).filter((name) => /^h\d|^hn$/.test(name))).toEqual([]);
    const list = await historyList('j');
    expect(list).toHaveLength(4);
    expect(list[0]).toBe('[1,"put",{"q":"q"}]');
    expect(list[3]).toBe('[4,"after"]');
    expect(await encoding('ql:j:j')).toBe('listpack');
  });

  it('moves the history to the list past 32 entries', async () => {
    await setLayout('compact');
    await core.call(1, 'put', 'w', 'q', 'j', 'k', '{}', 0);
    for (let i = 2; i <= 32; i++) await core.call(i, 'log', 'j', 'n');
    expect((await hash('j')).hn).toBe('32');
    await core.call(33, 'log', 'j', 'n');
    expect((await hash('j')).hn).toBeUndefined();
    expect(await historyList('j')).toHaveLength(33);
  });

  it('stores recurring children compactly, spawned_from_jid kept', async () => {
    await setLayout('compact');
    await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0);
    await core.call(1, 'peek', 'q', 1);
    expect(await hash('r-1')).toEqual({
      klass: 'k', data: '{}', state: 'waiting', queue: 'q', time: '0',
      retries: '0', spawned_from_jid: 'r', hn: 'p',
    });
  });

  it('writes the implicit put entry out from the fields it was made of, before they change', async () => {
    await setLayout('compact');
    await core.call(10.5, 'put', 'w', 'q', 'j', 'k', '{}', 0);
    // A re-put into another queue: the first entry keeps the first put's time and queue.
    await core.call(20, 'put', 'w', 'q2', 'j', 'k', '{}', 0);
    expect(await hash('j')).toMatchObject({ hn: '2', h1: 'p10:q', h2: 'p20:q2', queue: 'q2' });
    // A recurring child taking over a waiting job of its name.
    await core.call(30, 'put', 'w', 'q', 'r-1', 'k', '{}', 0);
    await core.call(30, 'recur', 'q3', 'r', 'k', '{}', 'interval', 60, 0);
    await core.call(31, 'peek', 'q3', 1);
    expect(await hash('r-1')).toMatchObject({ hn: '2', h1: 'p30:q', h2: 'p30:q3', queue: 'q3' });
  });

  it('stores the put entry when max-job-history is not a whole number (the list\'s rules apply)', async () => {
    await setLayout('compact');
    await core.call(0, 'config.set', 'max-job-history', '2.5');
    await core.call(1, 'put', 'w', 'q', 'j', 'k', '{}', 0);
    expect((await hash('j')).hn).toBeUndefined();
    expect(await historyList('j')).toEqual(['[1,"put",{"q":"q"}]']);
  });

  it('config.set takes only spec or compact for job-layout; config.get lists it only when set', async () => {
    await expect(core.call(0, 'config.set', 'job-layout', 'small')).rejects.toThrow(
      'config.set(): Arg "value" for "job-layout" must be spec or compact: small');
    await core.call(0, 'config.unset', 'job-layout');
    expect(JSON.parse(String(await core.call(0, 'config.get')))).not.toHaveProperty('job-layout');
    expect(await core.call(0, 'config.get', 'job-layout')).toBeNull();
    await core.call(0, 'config.set', 'job-layout', 'compact');
    expect(await core.call(0, 'config.get', 'job-layout')).toBe('compact');
  });
});

describe('the compact layout: the same replies and events as today\'s', () => {
  it('a job\'s whole life: put, peek, pop, heartbeat, retry, fail, unfail, complete with next, complete', async () => {
    const replies = await sameInBothLayouts([
      put(10.25, 'a', 'tags', '["t"]', 'retries', 1),
      put(10.5, 'b', 'priority', 4),
      [11, 'peek', 'q', 5],
      [12, 'get', 'a'],
      [12, 'multiget', 'a', 'b', 'nope'],
      [13, 'pop', 'q', 'w1', 5],
      [13.5, 'heartbeat', 'a', 'w1', '{"x":2}'],
      [14, 'retry', 'a', 'q', 'w1', 0, 'grp', 'try again'],
      [14, 'get', 'a'],
      [15, 'pop', 'q', 'w2', 1],
      [15, 'pop.raw', 'q', 'w2', 1],
      [16, 'retry', 'a', 'q', 'w2'],
      [16, 'get', 'a'],
      [17, 'failed'],
      [17, 'failed', 'failed-retries-q', 0, 10],
      [18, 'unfail', 'q2', 'failed-retries-q', 5],
      [18, 'get', 'a'],
      [19, 'complete', 'b', 'w1', 'q', '{"y":1}', 'next', 'q3'],
      [19, 'get', 'b'],
      [20, 'pop', 'q3', 'w3', 1],
      [21, 'complete', 'b', 'w3', 'q3', '{}'],
      [21, 'get', 'b'],
      [21, 'complete', 'b', 'w3', 'q3', '{}'],
      [22, 'jobs', 'complete'],
      [22, 'tag', 'get', 't'],
      [22, 'tag', 'add', 'b', 'x'],
      [22, 'tag', 'remove', 'b', 'x'],
      [22, 'get', 'b'],
      [23, 'cancel', 'a'],
      [23, 'get', 'a'],
    ]);
    expect(replies.filter((r) => typeof r === 'string' && r.startsWith('error:'))).toEqual([
      'error: complete: Complete(): Job b is not currently running: complete',
    ]);
  });

  it('errors on jobs in every state, tracking, priority, depends, timeout, stalls and progress', async () => {
    await sameInBothLayouts([
      put(1, 'a'),
      put(1, 'b', 'depends', '["a"]'),
      [1, 'track', 'track', 'a'],
      [2, 'complete', 'a', 'w', 'q', '{}'],
      [2, 'fail', 'a', 'w', 'g', 'm'],
      [2, 'retry', 'a', 'q', 'w'],
      [2, 'heartbeat', 'a', 'w'],
      [2, 'progress', 'a', 'w', 1, 2],
      [2, 'priority', 'a', 7],
      [3, 'pop', 'q', 'w', 1],
      [3, 'progress', 'a', 'w', 1, 2],
      [3, 'get', 'a'],
      [3, 'track'],
      [4, 'timeout', 'a'],
      [4, 'get', 'a'],
      [5, 'pop', 'q', 'w2', 1],
      // Stalls: the lock (60 s) runs out, the courtesy step, then a reclaim.
      [70, 'pop', 'q', 'w3', 1],
      [90, 'pop', 'q', 'w3', 1],
      [90, 'get', 'a'],
      [91, 'complete', 'a', 'w3', 'q', '{}'],
      [91, 'get', 'b'],
      [92, 'depends', 'b', 'off', 'a'],
      [93, 'pop', 'q', 'w', 5],
      [93, 'get', 'b'],
    ]);
  });

  it('retries that run out by stalls, with a history trimmed by max-job-history', async () => {
    await sameInBothLayouts([
      [0, 'config.set', 'grace-period', 0],
      [0, 'config.set', 'max-job-history', 4],
      put(1, 'a', 'retries', 1),
      [2, 'pop', 'q', 'w1', 1],
      [2, 'log', 'a', 'note', '{"n":1}'],
      [70, 'pop', 'q', 'w2', 1],
      [140, 'pop', 'q', 'w3', 1],
      [210, 'pop', 'q', 'w4', 1],
      [210, 'get', 'a'],
      [211, 'put', 'w', 'q', 'a', 'k', '{}', 0],
      [211, 'get', 'a'],
    ]);
  });

  it('recurring children, also when one overwrites a job of its name', async () => {
    await sameInBothLayouts([
      [0, 'recur', 'q', 'r', 'k', '{"r":1}', 'interval', 60, 0, 'tags', '["t"]', 'retries', 2],
      [1, 'pop', 'q', 'w', 1],
      [2, 'complete', 'r-1', 'w', 'q', '{}'],
      [2, 'unrecur', 'r'],
      [3, 'recur', 'q', 'r', 'k2', '{}', 'interval', 60, 0],
      [4, 'get', 'r-1'],
      [5, 'peek', 'q', 5],
      // A child that takes over a job that is only waiting (its put entry implicit).
      put(6, 's-1'),
      [6, 'recur', 'q2', 's', 'k', '{}', 'interval', 60, 0],
      [7, 'peek', 'q2', 5],
      [7, 'get', 's-1'],
      [8, 'pop', 'q2', 'w', 5],
      [8, 'get', 's-1'],
    ]);
  });

  it('coded history entries with names holding `:`, `/`, quotes and non-ASCII, next to entries stored as JSON', async () => {
    const odd = 'w:1/"ü"';
    await sameInBothLayouts([
      [1, 'put', 'w', 'a:b', 'j', 'k', '{}', 0],
      [2, 'pop', 'a:b', odd, 1],
      [3, 'fail', 'j', odd, 'g:/"1"', 'm'],
      [4, 'unfail', 'a:b', 'g:/"1"', 1],
      [5, 'pop', 'a:b', odd, 1],
      [6, 'retry', 'j', 'a:b', odd, 0, 'g2', 'again'],
      [6, 'pop', 'a:b', odd, 1],
      [7, 'timeout', 'j'],
      [8, 'get', 'j'],
      [8, 'pop.raw', 'a:b', 'w2', 1],
    ]);
    const job = await hash('j');
    // Coded: put, popped; the failure with a worker and a group is JSON.
    expect([job.h1, job.h2, job.h7]).toEqual(['p1:a:b', `o2:${odd}`, 't7']);
    expect(job.h3).toMatch(/^\[3,"failed",\{/);
  });

  it('wait and run statistics from times kept in their shortest text', async () => {
    const T = 1_700_000_000.123456;
    await sameInBothLayouts([
      put(T, 'a'),
      put(T + 0.1, 'b'),
      put(T + 1 / 3, 'c'),
      [T + 2.718281828, 'pop', 'q', 'w', 3],
      [T + 3, 'job.progress', 'a', 'w', '{"step":1}'],
      [T + 3.14159, 'complete', 'a', 'w', 'q', '{}'],
      [T + 3.2, 'get', 'a'],
      [T + 4.000001, 'complete', 'b', 'w', 'q', '{}', 'next', 'q2'],
      [T + 5.5, 'job.progress', 'c', 'w', 50],
      [T + 5.5, 'get', 'c'],
      [T + 6, 'pop', 'q2', 'w', 1],
      [T + 7.25, 'complete', 'b', 'w', 'q2', '{}'],
      [T + 8, 'stats', 'q', T],
      [T + 8, 'stats', 'q2', T],
    ]);
    // What is stored is shorter, and reads back as the same number.
    expect((await hash('c')).time).toBe(String(T + 2.718281828));
  });

  it('histories long enough to move to the list, and entries too long for the hash', async () => {
    const calls: Call[] = [put(1, 'a')];
    for (let i = 2; i < 40; i++) calls.push([i, 'log', 'a', `n${i}`]);
    calls.push([40, 'get', 'a'], put(41, 'b'), [42, 'log', 'b', 'long', JSON.stringify({ s: 'y'.repeat(70) })], [43, 'get', 'b']);
    await sameInBothLayouts(calls);
  });
});

describe('jobs that live through a change of job-layout', () => {
  it('a job put in today\'s layout stays in it when worked on with compact set', async () => {
    await setLayout(undefined);
    await core.call(1, 'put', 'w', 'q', 'a', 'k', '{}', 0, 'retries', 1);
    const before = await core.call(1, 'get', 'a');
    await setLayout('compact');
    expect(await core.call(1, 'get', 'a')).toBe(before);
    await core.call(2, 'pop', 'q', 'w', 1);
    await core.call(3, 'retry', 'a', 'q', 'w');
    await core.call(4, 'pop', 'q', 'w', 1);
    await core.call(5, 'complete', 'a', 'w', 'q', '{}');
    await core.call(6, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    const job = await hash('a');
    expect(job).toMatchObject({ jid: 'a', worker: '', expires: '0', priority: '0', tags: '{}', retries: '1', remaining: '1' });
    expect(job.hn).toBeUndefined();
    // (A retry adds no history entry.)
    expect(await historyList('a')).toHaveLength(5);
    const got = JSON.parse(String(await core.call(6, 'get', 'a'))) as { history: Array<{ what: string }> };
    expect(got.history.map((h) => h.what)).toEqual(['put', 'popped', 'popped', 'done', 'put']);
  });

  it('a job put in the compact layout stays in it when worked on after the option is unset', async () => {
    await setLayout('compact');
    await core.call(1, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await setLayout(undefined);
    await core.call(2, 'pop', 'q', 'w', 1);
    await core.call(3, 'fail', 'a', 'w', 'g', 'm');
    await core.call(4, 'unfail', 'q', 'g', 1);
    await core.call(5, 'pop', 'q', 'w', 1);
    await core.call(6, 'complete', 'a', 'w', 'q', '{}');
    await core.call(7, 'put', 'w', 'q', 'a', 'k', '{}', 0, 'priority', 2);
    const job = await hash('a');
    expect(job.jid).toBeUndefined();
    expect(job).toMatchObject({ priority: '2', state: 'waiting', hn: '7', h1: 'p1:q' });
    // (complete emptied the failure.)
    expect([job.worker, job.expires, job.failure, job.remaining, job.retries]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(await ctx.redis.exists('ql:j:a-history')).toBe(0);
    const got = JSON.parse(String(await core.call(7, 'get', 'a'))) as Record<string, unknown>;
    expect(got).toMatchObject({ jid: 'a', worker: '', expires: 0, priority: 2, retries: 5, remaining: 5, tags: {} });
    expect((got['history'] as Array<{ what: string }>).map((h) => h.what)).toEqual(['put', 'popped', 'failed', 'put', 'popped', 'done', 'put']);
  });

  it('a job written by another qless-core is read and worked on unchanged with compact set', async () => {
    await writeJob(ctx.redis, 'other', { time: 5 });
    const before = await snapshot(ctx.redis);
    await setLayout('compact');
    const got = JSON.parse(String(await core.call(6, 'get', 'other'))) as Record<string, unknown>;
    expect(got).toMatchObject({ jid: 'other', priority: 0, retries: 5, remaining: 5 });
    await core.call(7, 'pop', 'q', 'w', 1);
    const job = await hash('other');
    expect(job).toMatchObject({ jid: 'other', state: 'running', worker: 'w', retries: '5', remaining: '5' });
    expect(await historyList('other')).toEqual(['[5,"put",{"q":"q"}]', '[7,"popped",{"worker":"w"}]']);
    expect(Object.keys(before)).toContain('ql:j:other-history');
  });
});
