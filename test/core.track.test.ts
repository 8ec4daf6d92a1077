import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { snapshot, writeJob, zsetWithScores } from './support/raw.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

interface Listing {
  jobs: Array<Record<string, unknown>> | Record<string, never>;
  expired: string[] | Record<string, never>;
}

describe('track / untrack: checks', () => {
  it('reports a missing jid first, even when the command word is wrong', async () => {
    await expect(core.call(0, 'track', 'track')).rejects.toThrow('Track(): Arg "jid" missing');
    await expect(core.call(0, 'track', 'untrack')).rejects.toThrow('Track(): Arg "jid" missing');
    await expect(core.call(0, 'track', 'bogus')).rejects.toThrow('Track(): Arg "jid" missing');
  });

  it('then requires the job to exist (a template is not a job)', async () => {
    await expect(core.call(0, 'track', 'track', 'nope')).rejects.toThrow('Track(): Job does not exist');
    await expect(core.call(0, 'track', 'bogus', 'nope')).rejects.toThrow('Track(): Job does not exist');
    await core.call(0, 'recur', 'q', 'tmpl', 'k', '{}', 'interval', 60, 0);
    await expect(core.call(0, 'track', 'track', 'tmpl')).rejects.toThrow('Track(): Job does not exist');
  });

  it('then checks the command word', async () => {
    await writeJob(ctx.redis, 'jid');
    await expect(core.call(0, 'track', 'bogus', 'jid')).rejects.toThrow('Track(): Unknown action "bogus"');
    await expect(core.call(0, 'track', '', 'jid')).rejects.toThrow('Track(): Unknown action ""');
  });

  it('writes and publishes nothing when it fails', async () => {
    await writeJob(ctx.redis, 'jid');
    const before = await snapshot(ctx.redis);
    await expect(core.call(0, 'track', 'track')).rejects.toThrow();
    await expect(core.call(0, 'track', 'track', 'nope')).rejects.toThrow();
    await expect(core.call(0, 'track', 'untrack', 'nope')).rejects.toThrow();
    await expect(core.call(0, 'track', 'nope', 'jid')).rejects.toThrow();
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect(await events.settle()).toEqual([]);
  });
});

describe('track / untrack', () => {
  it('replies the bulk strings "1" then "0" and refreshes the score', async () => {
    await writeJob(ctx.redis, 'jid');
    expect(await core.call(5, 'track', 'track', 'jid')).toBe('1');
    expect(await zsetWithScores(ctx.redis, 'ql:tracked')).toEqual([['jid', '5']]);
    expect(await core.call(7.25, 'track', 'track', 'jid')).toBe('0');
    expect(await zsetWithScores(ctx.redis, 'ql:tracked')).toEqual([['jid', '7.25']]);
    expect(await core.call(8, 'track', 'untrack', 'jid')).toBe('1');
    expect(await core.call(8, 'track', 'untrack', 'jid')).toBe('0');
    expect(await ctx.redis.exists('ql:tracked')).toBe(0);
  });

  it('compares the command word case-insensitively', async () => {
    await writeJob(ctx.redis, 'jid');
    expect(await core.call(0, 'track', 'TRACK', 'jid')).toBe('1');
    expect(await core.call(0, 'track', 'UnTrack', 'jid')).toBe('1');
  });

  it('publishes the bare jid on ql:track / ql:untrack every time the job exists', async () => {
    await writeJob(ctx.redis, 'jid');
    await core.call(0, 'track', 'track', 'jid');
    await core.call(0, 'track', 'track', 'jid');
    await core.call(0, 'track', 'untrack', 'jid');
    await core.call(0, 'track', 'untrack', 'jid');
    expect(await events.settle()).toEqual([
      { channel: 'ql:track', message: 'jid' },
      { channel: 'ql:track', message: 'jid' },
      { channel: 'ql:untrack', message: 'jid' },
      { channel: 'ql:untrack', message: 'jid' },
    ]);
  });

  it('tracks jobs in any state and tests the key, not the jid field', async () => {
    await writeJob(ctx.redis, 'done', { state: 'complete', queue: '' });
    await writeJob(ctx.redis, 'failed', { state: 'failed' });
    await ctx.redis.hset('ql:j:odd', 'klass', 'k');
    expect(await core.call(0, 'track', 'track', 'done')).toBe('1');
    expect(await core.call(0, 'track', 'track', 'failed')).toBe('1');
    expect(await core.call(0, 'track', 'track', 'odd')).toBe('1');
  });
});

describe('track listing', () => {
  it('is {"expired":{},"jobs":{}} when nothing is tracked', async () => {
    const reply = (await core.call(0, 'track')) as string;
    expect(JSON.parse(reply)).toEqual({ expired: {}, jobs: {} });
    expect(reply).toMatch(/"expired":\{\}/);
    expect(reply).toMatch(/"jobs":\{\}/);
  });

  it('follows the spec example (a waiting job, then canceled)', async () => {
    await writeJob(ctx.redis, 'jid', { klass: 'k', queue: 'q' });
    await core.call(1, 'track', 'track', 'jid');
    expect(await core.json(5, 'track')).toEqual({
      expired: {},
      jobs: [
        {
          jid: 'jid',
          retries: 5,
          data: '{}',
          failure: {},
          expires: 0,
          remaining: 5,
          spawned_from_jid: false,
          dependencies: {},
          klass: 'k',
          tracked: true,
          tags: {},
          queue: 'q',
          state: 'waiting',
          history: [{ when: 0, q: 'q', what: 'put' }],
          dependents: {},
          priority: 0,
          worker: '',
        },
      ],
    });
    // What cancel leaves behind: the job keys are gone, ql:tracked keeps the jid.
    await ctx.redis.del('ql:j:jid', 'ql:j:jid-history');
    await ctx.redis.zrem('ql:q:q-work', 'jid');
    expect(await core.json(6, 'track')).toEqual({ expired: ['jid'], jobs: {} });
  });

  it('walks ql:tracked by score then jid, splitting existing and expired jobs', async () => {
    await writeJob(ctx.redis, 'b');
    await writeJob(ctx.redis, 'a');
    await writeJob(ctx.redis, 'c');
    await core.call(3, 'track', 'track', 'c');
    await core.call(2, 'track', 'track', 'b');
    await core.call(2, 'track', 'track', 'a');
    await ctx.redis.zadd('ql:tracked', 1, 'gone2', 1, 'gone1', 4, 'gone3');
    // A hash without a jid field counts as expired in the listing.
    await ctx.redis.hset('ql:j:gone3', 'klass', 'k');
    const listing = await core.json<Listing>(10, 'track');
    expect((listing.jobs as Array<{ jid: string; tracked: boolean }>).map((j) => [j.jid, j.tracked])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ]);
    expect(listing.expired).toEqual(['gone1', 'gone2', 'gone3']);
  });

  it('shows a running job with its fields', async () => {
    await writeJob(ctx.redis, 'r', {
      state: 'running',
      worker: 'w',
      expires: 61.5,
      priority: -2,
      tags: ['x', 'y'],
      fields: { spawned_from_jid: 'tmpl', failure: '{"group":"g","message":"m","when":3,"worker":"w"}' },
    });
    await ctx.redis.sadd('ql:j:r-dependents', 'd1');
    await core.call(0, 'track', 'track', 'r');
    const listing = await core.json<Listing>(0, 'track');
    expect(listing.jobs).toEqual([
      expect.objectContaining({
        jid: 'r',
        state: 'running',
        worker: 'w',
        expires: 61.5,
        priority: -2,
        tags: ['x', 'y'],
        spawned_from_jid: 'tmpl',
        failure: { group: 'g', message: 'm', when: 3, worker: 'w' },
        dependents: ['d1'],
        dependencies: {},
        tracked: true,
      }),
    ]);
  });

  it('writes nothing (except the legacy history migration) and publishes nothing', async () => {
    await writeJob(ctx.redis, 'jid');
    await core.call(0, 'track', 'track', 'jid');
    await events.settle();
    events.clear();
    const before = await snapshot(ctx.redis);
    await core.call(1, 'track');
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect(await events.settle()).toEqual([]);
  });

  it('migrates a legacy history field when reading the job', async () => {
    await writeJob(ctx.redis, 'old');
    await ctx.redis.del('ql:j:old-history');
    await ctx.redis.hset(
      'ql:j:old',
      'history',
      JSON.stringify([{ q: 'q', put: 10.5, popped: 20.9, worker: 'w', failed: 30.1 }, { q: 'q2', put: 40, done: 50 }]),
    );
    await core.call(0, 'track', 'track', 'old');
    const listing = await core.json<Listing>(0, 'track');
    expect((listing.jobs as Array<{ history: unknown }>)[0]!.history).toEqual([
      { when: 10, what: 'put', q: 'q' },
      { when: 20, what: 'popped', worker: 'w' },
      { when: 30, what: 'failed' },
      { when: 40, what: 'put', q: 'q2' },
      { when: 50, what: 'done' },
    ]);
    expect(await ctx.redis.hexists('ql:j:old', 'history')).toBe(0);
    expect(await ctx.redis.llen('ql:j:old-history')).toBe(5);
  });
});


describe('tracking with job commands', () => {
  it('lists a canceled job under expired forever (untrack needs the job)', async () => {
    await core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0);
    await core.call(1, 'track', 'track', 'jid');
    expect(await core.json(5, 'track')).toEqual({
      expired: {},
      jobs: [
        {
          jid: 'jid',
          retries: 5,
          data: '{}',
          failure: {},
          expires: 0,
          remaining: 5,
          spawned_from_jid: false,
          dependencies: {},
          klass: 'k',
          tracked: true,
          tags: {},
          queue: 'q',
          state: 'waiting',
          history: [{ when: 0, q: 'q', what: 'put' }],
          dependents: {},
          priority: 0,
          worker: '',
        },
      ],
    });
    await core.call(5, 'cancel', 'jid');
    expect(await core.json(6, 'track')).toEqual({ expired: ['jid'], jobs: {} });
    await expect(core.call(7, 'track', 'untrack', 'jid')).rejects.toThrow('Track(): Job does not exist');
  });

  it('publishes the tracked-job channels in the spec sequence', async () => {
    await core.call(0, 'config.set', 'grace-period', 0);
    await core.call(0, 'config.set', 'heartbeat', 60);
    await core.call(0, 'put', 'w0', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'track', 'track', 'a');
    await events.settle();
    events.clear();
    await core.call(0, 'pop', 'q', 'w1', 1);
    await core.call(1, 'put', 'w2', 'q', 'a', 'k', '{}', 0);
    await core.call(2, 'pop', 'q', 'w1', 1);
    await core.call(200, 'pop', 'q', 'w3', 1);
    await core.call(201, 'complete', 'a', 'w3', 'q', '{}', 'next', 'q2');
    await core.call(202, 'pop', 'q2', 'w4', 1);
    await core.call(203, 'complete', 'a', 'w4', 'q2', '{}');
    expect(await events.settle()).toEqual([
      { channel: 'ql:popped', message: 'a' },
      { channel: 'ql:log', message: '{"jid":"a","event":"put","queue":"q"}' },
      { channel: 'ql:w:w1', message: '{"jid":"a","event":"lock_lost","worker":"w1"}' },
      { channel: 'ql:log', message: '{"jid":"a","event":"lock_lost","worker":"w1"}' },
      { channel: 'ql:put', message: 'a' },
      { channel: 'ql:popped', message: 'a' },
      { channel: 'ql:stalled', message: 'a' },
      { channel: 'ql:w:w1', message: '{"jid":"a","event":"lock_lost","worker":"w1"}' },
      { channel: 'ql:log', message: '{"jid":"a","event":"lock_lost","worker":"w1"}' },
      { channel: 'ql:popped', message: 'a' },
      { channel: 'ql:completed', message: 'a' },
      { channel: 'ql:log', message: '{"jid":"a","to":"q2","event":"advanced","queue":"q"}' },
      { channel: 'ql:popped', message: 'a' },
      { channel: 'ql:completed', message: 'a' },
      { channel: 'ql:log', message: '{"jid":"a","event":"completed","queue":"q2"}' },
    ]);
  });

  it('keeps expired (completed-job expiry) jids in ql:tracked', async () => {
    await core.call(0, 'config.set', 'jobs-history-count', 0);
    await core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0);
    await core.call(0, 'track', 'track', 'jid');
    await core.call(0, 'pop', 'q', 'w', 1);
    await core.call(1, 'complete', 'jid', 'w', 'q', '{}');
    expect(await core.json(2, 'track')).toEqual({ expired: ['jid'], jobs: {} });
  });
});
