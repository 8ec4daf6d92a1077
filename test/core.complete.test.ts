import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis, testJobLayout } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot, zsetWithScores } from './support/raw.js';

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
const pop = (now: number, count: Arg = 1, worker = 'w', queue = 'q') => core.call(now, 'pop', queue, worker, count);
const complete = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'complete', jid, 'w', 'q', '{}', ...rest);
const hash = (jid: string) => ctx.redis.hgetall(`ql:j:${jid}`);
const history = (jid: string) => ctx.redis.lrange(`ql:j:${jid}-history`, 0, -1);
/** Put and pop `jid` (popped at `now`, so it is running for worker w in q). */
async function running(jid: string, now = 0, ...rest: Arg[]): Promise<void> {
  await put(now, jid, ...rest);
  await pop(now);
}

describe('complete: validation', () => {
  it('checks every argument before looking at the job, and writes nothing', async () => {
    await running('jid');
    const before = await snapshot(ctx.redis);
    const cases: Array<[Arg[], string]> = [
      [[], 'Job(): no jid provided'],
      [['jid'], 'Complete(): Arg "worker" missing'],
      [['jid', 'w'], 'Complete(): Arg "queue" missing'],
      [['jid', 'w', 'q'], "bad argument #1 to 'decode' (string expected, got nil)"],
      [['jid', 'w', 'q', '{]'], 'Expected object key string but found T_ARR_END at character 2'],
      [['jid', 'w', 'q', 'false'], 'Complete(): Arg "data" missing or not JSON: false'],
      [['jid', 'w', 'q', '{}', 'next', 'q2', 'delay', 'soon'], 'assertion failed!'],
      [['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '[1'], 'Expected comma or array end but found T_END'],
      [['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', 'false'], 'Complete(): Arg "depends" not JSON: false'],
      [['jid', 'w', 'q', '{}', 'delay', 5], 'Complete(): "delay" cannot be used without a "next".'],
      [['jid', 'w', 'q', '{}', 'depends', '[]'], 'Complete(): "depends" cannot be used without a "next".'],
      [['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '"a"'], 'Complete(): Arg "depends" not JSON: "a"'],
      [['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', 'null'], 'Complete(): Arg "depends" not JSON: null'],
      [['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '7'], 'Complete(): Arg "depends" not JSON: 7'],
      // argument checks come before the lookup
      [['nope', 'w', 'q', 'false'], 'Complete(): Arg "data" missing or not JSON: false'],
      [['nope', 'w', 'q', '{}', 'delay', 1], 'cannot be used without a "next"'],
      [['nope', 'w', 'q', '{}'], 'Complete(): Job nope does not exist'],
      [['jid', 'w2', 'q', '{}'], 'Complete(): Job jid has been handed out to another worker: w'],
      [['jid', 'w', 'q2', '{}'], 'Complete(): Job jid running in another queue: q'],
    ];
    for (const [args, message] of cases) {
      await expect(core.call(5, 'complete', ...args)).rejects.toThrow(message);
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('requires the job to be running', async () => {
    await put(0, 'waiting');
    await core.call(0, 'put', 'w', 'q', 'scheduled', 'k', '{}', 10);
    await expect(complete(1, 'waiting')).rejects.toThrow('Complete(): Job waiting is not currently running: waiting');
    await expect(complete(1, 'scheduled')).rejects.toThrow('Complete(): Job scheduled is not currently running: scheduled');
    await pop(2);
    await complete(3, 'waiting');
    await expect(complete(4, 'waiting')).rejects.toThrow('Complete(): Job waiting is not currently running: complete');
  });
});

describe('complete: final completion', () => {
  it.skipIf(compactLayout)('marks the job complete, records the run time and registers it for retention', async () => {
    await running('jid', 10, 'retries', 3);
    await ctx.redis.hset('ql:j:jid', 'remaining', '1');
    expect(await core.call(17, 'complete', 'jid', 'w', 'q', '{"out": 1}')).toBe('complete');
    const job = await hash('jid');
    expect(job).toMatchObject({
      state: 'complete', worker: '', failure: '{}', queue: '', expires: '0', remaining: '3',
      data: '{"out": 1}', time: '17.00000000000000000000',
    });
    expect(await history('jid')).toEqual(['[10,"put",{"q":"q"}]', '[10,"popped",{"worker":"w"}]', '[17,"done"]']);
    expect(await ctx.redis.exists('ql:q:q-locks')).toBe(0);
    expect(await ctx.redis.exists('ql:w:w:jobs')).toBe(0);
    expect(await zsetWithScores(ctx.redis, 'ql:completed')).toEqual([['jid', '17']]);
    expect(await ctx.redis.hgetall('ql:s:run:0:q')).toEqual({ total: '1', mean: '7', vk: '0', s7: '1' });
    expect(await core.call(18, 'jobs', 'complete')).toEqual(['jid']);
  });

  it('ignores a trailing option name without a value and unknown options', async () => {
    await running('jid');
    expect(await complete(1, 'jid', 'color', 'red', 'next')).toBe('complete');
  });

  it('can complete a job whose lock expired but was not noticed yet', async () => {
    await running('jid');
    expect(await complete(1000, 'jid')).toBe('complete');
  });

  it.skipIf(compactLayout)('clears a failure left by a retry with a message', async () => {
    await running('jid');
    await core.call(1, 'retry', 'jid', 'q', 'w', 0, 'grp', 'msg');
    expect(await ctx.redis.hget('ql:j:jid', 'failure')).not.toBe('{}');
    await pop(2);
    await complete(3, 'jid');
    expect(await ctx.redis.hget('ql:j:jid', 'failure')).toBe('{}');
  });
});

describe('complete: advancing with next', () => {
  it.skipIf(compactLayout)('moves the job to the next queue as waiting', async () => {
    await running('jid', 0, 'priority', 2, 'retries', 4);
    await ctx.redis.hset('ql:j:jid', 'remaining', '0');
    expect(await core.call(5, 'complete', 'jid', 'w', 'q', '{"step":2}', 'next', 'q2')).toBe('waiting');
    const job = await hash('jid');
    expect(job).toMatchObject({
      state: 'waiting', worker: '', failure: '{}', queue: 'q2', expires: '0', remaining: '4',
      data: '{"step":2}', time: '5.00000000000000000000',
    });
    expect(await history('jid')).toEqual(['[0,"put",{"q":"q"}]', '[0,"popped",{"worker":"w"}]', '[5,"done"]', '[5,"put",{"q":"q2"}]']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q2-work')).toEqual([['jid', '1.9999999995']]);
    expect(await zsetWithScores(ctx.redis, 'ql:queues')).toEqual([['q', '0'], ['q2', '5']]);
    expect(await ctx.redis.exists('ql:completed')).toBe(0);
    expect(await ctx.redis.hget('ql:s:run:0:q', 'mean')).toBe('5');
    // The next pop measures wait time from the advance.
    await pop(8, 1, 'w', 'q2');
    expect(await ctx.redis.hget('ql:s:wait:0:q2', 'mean')).toBe('3');
  });

  it('with a delay returns "scheduled" but leaves state waiting (reference quirk)', async () => {
    await running('jid');
    expect(await complete(5, 'jid', 'next', 'q2', 'delay', 10)).toBe('scheduled');
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('waiting');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q2-scheduled')).toEqual([['jid', '15']]);
    expect(await ctx.redis.exists('ql:q:q2-work')).toBe(0);
    await core.call(15, 'pop', 'q2', 'w', 1);
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('running');
  });

  it('with an explicit empty depends list and a delay is still scheduled', async () => {
    await running('jid');
    expect(await complete(5, 'jid', 'next', 'q2', 'delay', 10, 'depends', '[]')).toBe('scheduled');
  });

  it('a zero or negative delay goes straight to waiting', async () => {
    await running('a');
    await running('b', 1);
    expect(await complete(5, 'a', 'next', 'q2', 'delay', 0)).toBe('waiting');
    expect(await complete(5, 'b', 'next', 'q2', 'delay', -3)).toBe('waiting');
  });

  it('waits on live dependencies, keeping the delay for later', async () => {
    await put(0, 'dep');
    await running('jid', 1, 'priority', 1);
    expect(await complete(5, 'jid', 'next', 'q2', 'depends', '["dep","missing"]', 'delay', 10)).toBe('depends');
    const job = await hash('jid');
    expect([job.state, job.scheduled]).toEqual(['depends', '15']);
    expect(await zsetWithScores(ctx.redis, 'ql:q:q2-depends')).toEqual([['jid', '5']]);
    expect(await ctx.redis.smembers('ql:j:jid-dependencies')).toEqual(['dep']);
    expect(await ctx.redis.smembers('ql:j:dep-dependents')).toEqual(['jid']);
  });

  it('ignores the delay when no listed dependency is live (reference quirk)', async () => {
    await running('done');
    await complete(1, 'done');
    await running('jid', 2);
    expect(await complete(5, 'jid', 'next', 'q2', 'depends', '["done","missing"]', 'delay', 10)).toBe('waiting');
    expect(await ctx.redis.hget('ql:j:jid', 'scheduled')).toBeNull();
    expect(await ctx.redis.zrange('ql:q:q2-work', 0, -1)).toEqual(['jid']);
    expect(await ctx.redis.exists('ql:q:q2-scheduled')).toBe(0);
  });

  it('does not release its own dependents', async () => {
    await running('first');
    await core.call(1, 'put', 'w', 'q', 'second', 'k', '{}', 0, 'depends', '["first"]');
    await complete(2, 'first', 'next', 'q2');
    expect(await ctx.redis.hget('ql:j:second', 'state')).toBe('depends');
    expect(await ctx.redis.smembers('ql:j:first-dependents')).toEqual(['second']);
  });
});

describe('completed-job retention', () => {
  it('purges by age: scores in [0, now - jobs-history], tags and history included', async () => {
    await ctx.redis.hset('ql:config', 'jobs-history', '100');
    await running('a', 0, 'tags', '["t"]');
    await ctx.redis.zadd('ql:tracked', 0, 'a');
    await complete(0, 'a');
    await running('b', 50);
    await complete(99, 'b');
    expect(await ctx.redis.exists('ql:j:a')).toBe(1);
    await running('c', 100);
    await complete(100, 'c');
    expect(await ctx.redis.exists('ql:j:a', 'ql:j:a-history')).toBe(0);
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['b', 'c']);
    expect(await ctx.redis.zscore('ql:t:t', 'a')).toBeNull();
    expect(await ctx.redis.zscore('ql:tags', 't')).toBe('0');
    expect(await ctx.redis.zscore('ql:tracked', 'a')).not.toBeNull();
    expect(await core.call(101, 'get', 'a')).toBeNull();
  });

  it('a negative jobs-history purges the job just completed', async () => {
    await ctx.redis.hset('ql:config', 'jobs-history', '-1');
    await running('jid');
    expect(await complete(1, 'jid')).toBe('complete');
    expect(await ctx.redis.keys('ql:j:*')).toEqual([]);
    expect(await ctx.redis.exists('ql:completed')).toBe(0);
  });

  it('purges by count, keeping the jobs-history-count newest; 0 keeps none', async () => {
    await ctx.redis.hset('ql:config', 'jobs-history-count', '2');
    for (const [i, jid] of ['a', 'b', 'c'].entries()) {
      await running(jid, i);
      await complete(10 + i, jid);
    }
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['b', 'c']);
    expect(await ctx.redis.exists('ql:j:a')).toBe(0);
    await ctx.redis.hset('ql:config', 'jobs-history-count', '0');
    await running('d', 20);
    await complete(20, 'd');
    expect(await ctx.redis.exists('ql:completed')).toBe(0);
    expect(await ctx.redis.keys('ql:j:*')).toEqual([]);
  });

  it('only runs on a final completion', async () => {
    await ctx.redis.hset('ql:config', 'jobs-history-count', '0');
    await ctx.redis.zadd('ql:completed', 0, 'ghost');
    await running('jid');
    await complete(1, 'jid', 'next', 'q2');
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['ghost']);
  });
});

// complete takes the job out of its queue's work, locks and scheduled sets.
// A running job is normally in none of work and scheduled, but quirks of the
// reference (retry into another queue keeps the `queue` field, put leaves the
// other queue's sets alone) can leave it there; complete must still take it
// out. The scheduled set is only asked for when it exists (one EXISTS with the
// tracked and dependents lookups), which these tests pin down.
describe('complete: leftovers in the queue sets', () => {
  /** J running for w (popped from b), with `queue` q, and also in q's work set. */
  async function runningAndInWork(): Promise<void> {
    await running('J');
    await core.call(1, 'retry', 'J', 'b', 'w', 0); // into b's work set; `queue` stays q
    await put(2, 'J'); // into q's work set too
    await pop(3, 1, 'w', 'b'); // popped from b: running, still in q's work set
  }

  it('removes the job from its queue work set', async () => {
    await runningAndInWork();
    expect(await ctx.redis.zscore('ql:q:q-work', 'J')).not.toBeNull();
    expect(await complete(4, 'J')).toBe('complete');
    expect(await ctx.redis.zscore('ql:q:q-work', 'J')).toBeNull();
  });

  it('removes the job from its queue scheduled set, keeping the others', async () => {
    await runningAndInWork();
    await pop(4); // popped from q: the b work entry is gone, the job is running in q
    await core.call(4, 'retry', 'J', 'b', 'w', 0); // into b's work set again
    await put(5, 'J'); // and into q's work set
    await pop(6); // running (popped from q), still in b's work set
    await core.call(7, 'retry', 'J', 'q', 'w', 100); // into q's scheduled set
    await core.call(7, 'put', 'w', 'q', 'other', 'k', '{}', 50);
    await pop(8, 1, 'w', 'b'); // running again, popped from b; still in q's scheduled set
    expect(await ctx.redis.hget('ql:j:J', 'state')).toBe('running');
    expect(await ctx.redis.zscore('ql:q:q-scheduled', 'J')).not.toBeNull();
    expect(await complete(9, 'J')).toBe('complete');
    expect(await zsetWithScores(ctx.redis, 'ql:q:q-scheduled')).toEqual([['other', '57']]);
  });

  it('touches no scheduled set when the queue has none', async () => {
    await running('J');
    expect(await complete(1, 'J')).toBe('complete');
    expect(await ctx.redis.keys('ql:q:*')).toEqual([]);
  });
});
