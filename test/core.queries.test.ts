import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot } from './support/raw.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Arg = string | number;
type Job = Record<string, unknown>;
const put = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0, ...rest);
const pop = (now: number, count: Arg = 1, worker = 'w', queue = 'q') => core.call(now, 'pop', queue, worker, count);
const get = async (jid: string) => JSON.parse((await core.call(0, 'get', jid)) as string) as Job;
const counts = async (now: number, queue?: string) =>
  JSON.parse((await (queue === undefined ? core.call(now, 'queues') : core.call(now, 'queues', queue))) as string) as Job;

describe('get', () => {
  it('requires a jid and returns nil for a missing job', async () => {
    await expect(core.call(0, 'get')).rejects.toThrow('Job(): no jid provided');
    expect(await core.call(0, 'get', 'nope')).toBeNull();
  });

  it('returns every field of the job object with the documented rules', async () => {
    await core.call(0, 'put', 'w', 'q', 'jid', 'k', '[]', 0, 'retries', 1, 'priority', -2.5, 'tags', '["b","a"]');
    await ctx.redis.zadd('ql:tracked', 0, 'jid');
    // Fractional retries, as an older core stored them (put now refuses them).
    await ctx.redis.hset('ql:j:jid', 'spawned_from_jid', 'tmpl', 'retries', '1.5', 'remaining', '1.5');
    await put(0, 'child', 'depends', '["jid"]');
    const job = await get('jid');
    expect(job).toEqual({
      jid: 'jid', klass: 'k', state: 'waiting', queue: 'q', worker: '', tracked: true,
      priority: -2.5, expires: 0, retries: 1.5, remaining: 1, data: '[]', tags: ['b', 'a'],
      failure: {}, spawned_from_jid: 'tmpl', dependents: ['child'], dependencies: {},
      history: [{ when: 0, q: 'q', what: 'put' }],
    });
    expect((await get('child')).dependencies).toEqual(['jid']);
  });

  it('shows expires 0 after a failure (field is empty) and the failure object', async () => {
    await put(0, 'jid');
    await pop(0);
    await core.call(1.5, 'fail', 'jid', 'w', 'grp', 'boom');
    const job = await get('jid');
    expect([job.expires, job.worker, job.state]).toEqual([0, '', 'failed']);
    expect(job.failure).toEqual({ group: 'grp', message: 'boom', when: 1, worker: 'w' });
  });

  it('still shows the old worker after a non-exhausted retry', async () => {
    await put(0, 'jid');
    await pop(0);
    await core.call(1, 'retry', 'jid', 'q', 'w');
    expect(await get('jid')).toMatchObject({ state: 'waiting', worker: 'w', expires: 60 });
  });

  it('encodes numbers with 14 significant digits', async () => {
    await put(0, 'jid');
    await pop(1700000000.9876542);
    const text = (await core.call(0, 'get', 'jid')) as string;
    expect(text).toContain('"expires":1700000060.9877');
  });

  it('writes nothing', async () => {
    await put(0, 'jid');
    const before = await snapshot(ctx.redis);
    await core.call(1, 'get', 'jid');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });
});

describe('multiget', () => {
  it('returns existing jobs in argument order, leaving out missing ones', async () => {
    expect(await core.call(0, 'multiget')).toBe('{}');
    expect(await core.call(0, 'multiget', 'x', 'y')).toBe('{}');
    await put(0, 'a');
    await put(0, 'b');
    const jobs = JSON.parse((await core.call(0, 'multiget', 'b', 'nope', 'a')) as string) as Job[];
    expect(jobs.map((j) => j.jid)).toEqual(['b', 'a']);
  });
});

describe('jobs', () => {
  it('validates state, queue, offset and count before the type', async () => {
    const cases: Array<[Arg[], string]> = [
      [[], 'Jobs(): Arg "state" missing'],
      [['running'], 'Jobs(): Arg "queue" missing'],
      [['waiting'], 'Jobs(): Arg "queue" missing'],
      [['complete', 'x'], 'Jobs(): Arg "offset" not a number: x'],
      [['complete', 0, 'y'], 'Jobs(): Arg "count" not a number: y'],
      [['running', 'q', 'x'], 'Jobs(): Arg "offset" not a number: x'],
      [['waiting', 'q', 0, 'y'], 'Jobs(): Arg "count" not a number: y'],
      [['waiting', 'q'], 'Jobs(): Unknown type "waiting"'],
      [['running', 'q', 0.5], 'value is not an integer or out of range'],
    ];
    for (const [args, message] of cases) {
      await expect(core.call(0, 'jobs', ...args)).rejects.toThrow(message);
    }
  });

  it('complete: newest first, paged by ranks (count 0 at offset 0 means all)', async () => {
    for (const jid of ['a', 'b', 'c', 'd']) await put(0, jid);
    await pop(0, 4);
    await core.call(1, 'complete', 'a', 'w', 'q', '{}');
    await core.call(2, 'complete', 'b', 'w', 'q', '{}');
    await core.call(2, 'complete', 'c', 'w', 'q', '{}');
    await core.call(3, 'complete', 'd', 'w', 'q', '{}');
    expect(await core.call(4, 'jobs', 'complete')).toEqual(['d', 'c', 'b', 'a']);
    expect(await core.call(4, 'jobs', 'complete', 1, 2)).toEqual(['c', 'b']);
    expect(await core.call(4, 'jobs', 'complete', 0, 0)).toEqual(['d', 'c', 'b', 'a']);
    expect(await core.call(4, 'jobs', 'complete', 1, 0)).toEqual([]);
  });

  it('running and stalled split the locks at now (inclusive both ways), with LIMIT paging', async () => {
    for (const jid of ['a', 'b', 'c']) await put(0, jid);
    await pop(0, 1); // c: 60
    await pop(10, 1); // b: 70
    await pop(20, 1); // a: 80
    expect(await core.call(70, 'jobs', 'running', 'q')).toEqual(['b', 'a']);
    expect(await core.call(70, 'jobs', 'stalled', 'q')).toEqual(['c', 'b']);
    expect(await core.call(0, 'jobs', 'running', 'q', 1, 1)).toEqual(['b']);
    expect(await core.call(0, 'jobs', 'running', 'q', 0, 0)).toEqual([]);
    expect(await core.call(0, 'jobs', 'running', 'q', 1, -1)).toEqual(['b', 'a']);
  });

  it('scheduled first promotes every ready job, then lists by ready time', async () => {
    await core.call(0, 'put', 'w', 'q', 'x', 'k', '{}', 30);
    await core.call(0, 'put', 'w', 'q', 'y', 'k', '{}', 10);
    await core.call(0, 'put', 'w', 'q', 'z', 'k', '{}', 5);
    await core.call(0, 'put', 'w', 'q', 'v', 'k', '{}', 20);
    expect(await core.call(0, 'jobs', 'scheduled', 'q')).toEqual(['z', 'y', 'v', 'x']);
    expect(await core.call(10, 'jobs', 'scheduled', 'q')).toEqual(['v', 'x']);
    expect(await ctx.redis.hget('ql:j:y', 'state')).toBe('waiting');
    expect(await core.call(10, 'jobs', 'scheduled', 'q', 1, 1)).toEqual(['x']);
  });

  it('depends lists by entry time', async () => {
    await put(0, 'a');
    await put(5, 'late', 'depends', '["a"]');
    await put(3, 'early', 'depends', '["a"]');
    expect(await core.call(6, 'jobs', 'depends', 'q')).toEqual(['early', 'late']);
  });

  it('recurring lists templates with scores from 0 up, without spawning', async () => {
    await ctx.redis.zadd('ql:q:q-recur', -5, 'neg', 0, 'zero', 100, 'future', 50, 'mid');
    expect(await core.call(1, 'jobs', 'recurring', 'q')).toEqual(['zero', 'mid', 'future']);
    expect(await core.call(1, 'jobs', 'recurring', 'q', 1, 1)).toEqual(['mid']);
    expect(await ctx.redis.keys('ql:j:*')).toEqual([]);
  });

  it('returns Redis arrays, empty ones included', async () => {
    expect(await core.call(0, 'jobs', 'depends', 'nothing')).toEqual([]);
    expect(await core.call(0, 'jobs', 'complete')).toEqual([]);
  });
});

describe('length', () => {
  it('counts locks, work and scheduled, but not depends; promotes nothing', async () => {
    await expect(core.call(0, 'length')).rejects.toThrow('Queue(): no queue name provided');
    await put(0, 'a');
    await put(0, 'b');
    await core.call(0, 'put', 'w', 'q', 's', 'k', '{}', 5);
    await put(0, 'd', 'depends', '["a"]');
    await pop(0, 1);
    expect(await core.call(100, 'length', 'q')).toBe(3);
    expect(await ctx.redis.hget('ql:j:s', 'state')).toBe('scheduled');
    expect(await core.call(100, 'length', 'nope')).toBe(0);
  });
});

describe('queues', () => {
  it('counts one queue, promoting ready scheduled jobs first', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await put(0, 'c');
    await core.call(0, 'put', 'w', 'q', 's1', 'k', '{}', 55);
    await core.call(0, 'put', 'w', 'q', 's2', 'k', '{}', 500);
    await put(0, 'd', 'depends', '["a"]');
    await ctx.redis.zadd('ql:q:q-recur', -1, 'r1', 1000, 'r2'); // never due / not due yet
    await pop(0, 1);  // c, lock 60
    await pop(50, 1); // b, lock 110; s1 is not ready yet
    expect(await ctx.redis.hget('ql:j:s1', 'state')).toBe('scheduled');
    await core.call(60, 'pause', 'q');
    expect(await counts(60, 'q')).toEqual({
      name: 'q', waiting: 2, stalled: 1, running: 1, scheduled: 1, depends: 1, recurring: 2, paused: true,
    });
    expect(await ctx.redis.hget('ql:j:s1', 'state')).toBe('waiting');
  });

  it('accepts any name and lists all known queues in first-seen order, or {}', async () => {
    expect(await core.call(0, 'queues')).toBe('{}');
    expect(await counts(0, 'never')).toEqual({ name: 'never', waiting: 0, stalled: 0, running: 0, scheduled: 0, depends: 0, recurring: 0, paused: false });
    await core.call(5, 'put', 'w', 'zeta', 'a', 'k', '{}', 0);
    await core.call(7, 'put', 'w', 'alpha', 'b', 'k', '{}', 3);
    const all = (await counts(20)) as unknown as Job[];
    expect(all.map((q) => [q.name, q.waiting, q.scheduled])).toEqual([['zeta', 1, 0], ['alpha', 1, 0]]);
  });

  it('does not count negative lock scores as stalled', async () => {
    await ctx.redis.zadd('ql:q:q-locks', -10, 'neg', 5, 'old', 50, 'live');
    expect(await counts(10, 'q')).toMatchObject({ stalled: 1, running: 2 });
  });
});

describe('pause, unpause, queue.forget', () => {
  it('need at least one name (the Redis arity error)', async () => {
    for (const command of ['pause', 'unpause', 'queue.forget']) {
      await expect(core.call(0, command)).rejects.toThrow('Wrong number of args calling Redis command from script');
    }
  });

  it('pause and unpause maintain ql:paused_queues only', async () => {
    expect(await core.call(0, 'pause', 'a', 'b')).toBeNull();
    expect((await ctx.redis.smembers('ql:paused_queues')).sort()).toEqual(['a', 'b']);
    expect(await ctx.redis.exists('ql:queues')).toBe(0);
    expect(await core.call(0, 'unpause', 'a', 'never')).toBeNull();
    expect(await ctx.redis.smembers('ql:paused_queues')).toEqual(['b']);
  });

  it('handle thousands of names', async () => {
    const names = Array.from({ length: 5000 }, (_, i) => `q${i}`);
    await core.call(0, 'pause', ...names);
    expect(await ctx.redis.scard('ql:paused_queues')).toBe(5000);
    await core.call(0, 'unpause', ...names);
    expect(await ctx.redis.exists('ql:paused_queues')).toBe(0);
  });

  it('queue.forget removes names from ql:queues only; a later put re-adds with a new score', async () => {
    await put(1, 'jid');
    await core.call(2, 'pause', 'q');
    expect(await core.call(3, 'queue.forget', 'q', 'other')).toBeNull();
    expect(await ctx.redis.exists('ql:queues')).toBe(0);
    expect(await ctx.redis.zrange('ql:q:q-work', 0, -1)).toEqual(['jid']);
    expect(await ctx.redis.sismember('ql:paused_queues', 'q')).toBe(1);
    await put(9, 'jid2');
    expect(await ctx.redis.zscore('ql:queues', 'q')).toBe('9');
  });
});

describe('priority', () => {
  it('validates the priority before looking the job up', async () => {
    await put(0, 'jid');
    const before = await snapshot(ctx.redis);
    await expect(core.call(1, 'priority')).rejects.toThrow('Job(): no jid provided');
    await expect(core.call(1, 'priority', 'jid')).rejects.toThrow('Priority(): Arg "priority" missing or not a number: nil');
    await expect(core.call(1, 'priority', 'nope', 'high')).rejects.toThrow('Priority(): Arg "priority" missing or not a number: high');
    await expect(core.call(1, 'priority', 'nope', 1)).rejects.toThrow('Priority(): Job nope does not exist');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('re-scores a waiting job to exactly the priority, jumping ahead of same-priority jobs (quirk)', async () => {
    await put(10, 'a');
    await put(20, 'b');
    expect(await core.call(30, 'priority', 'b', 0)).toBe(0);
    expect(await ctx.redis.zscore('ql:q:q-work', 'b')).toBe('0');
    expect(await ctx.redis.zrevrange('ql:q:q-work', 0, -1)).toEqual(['b', 'a']);
  });

  it('returns the priority truncated, stores the fraction', async () => {
    await put(0, 'jid');
    expect(await core.call(1, 'priority', 'jid', -2.5)).toBe(-2);
    expect(await ctx.redis.hget('ql:j:jid', 'priority')).toBe('-2.5');
    expect(await ctx.redis.zscore('ql:q:q-work', 'jid')).toBe('-2.5');
    expect(await core.call(1, 'priority', 'jid', '0x10')).toBe(16);
  });

  it('only stores it for jobs that are not waiting; they use it when they move to work', async () => {
    await put(0, 'run');
    await pop(0);
    await core.call(0, 'put', 'w', 'q', 'sched', 'k', '{}', 5);
    await core.call(1, 'priority', 'run', 7);
    await core.call(1, 'priority', 'sched', 4);
    expect(await ctx.redis.zscore('ql:q:q-work', 'run')).toBeNull();
    expect(await ctx.redis.hget('ql:j:run', 'priority')).toBe('7');
    await core.call(10, 'jobs', 'scheduled', 'q');
    expect(await ctx.redis.zscore('ql:q:q-work', 'sched')).toBe('3.9999999989999999');
    await core.call(11, 'complete', 'run', 'w', 'q', '{}');
    expect(await core.call(12, 'priority', 'run', 1)).toBe(1);
    expect(await ctx.redis.hget('ql:j:run', 'priority')).toBe('1');
  });

  it('a timed-out job loses its +inf score when re-prioritised', async () => {
    await put(0, 'jid');
    await pop(0);
    await core.call(1, 'timeout', 'jid');
    await core.call(2, 'priority', 'jid', 3);
    expect(await ctx.redis.zscore('ql:q:q-work', 'jid')).toBe('3');
  });
});
