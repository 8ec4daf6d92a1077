import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { dataKeys, snapshot } from './support/raw.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Arg = string | number;
const put = (now: number, jid: string, ...rest: Arg[]) => core.call(now, 'put', 'w', 'q', jid, 'k', '{}', 0, ...rest);
const pop = (now: number, count: Arg = 1, worker = 'w') => core.call(now, 'pop', 'q', worker, count);

describe('cancel', () => {
  it('returns every given jid as an array (empty call: empty array)', async () => {
    expect(await core.call(0, 'cancel')).toEqual([]);
    await put(0, 'a');
    expect(await core.call(1, 'cancel', 'a', 'nope', 'a')).toEqual(['a', 'nope', 'a']);
  });

  it('deletes a waiting job and every trace of it, except tracking', async () => {
    await put(0, 'other', 'tags', '["t"]');
    await put(0, 'jid', 'tags', '["t","u"]');
    await ctx.redis.zadd('ql:tracked', 0, 'jid');
    await core.call(1, 'cancel', 'jid');
    expect(await ctx.redis.exists('ql:j:jid', 'ql:j:jid-history')).toBe(0);
    expect(await ctx.redis.zrange('ql:q:q-work', 0, -1)).toEqual(['other']);
    expect(await ctx.redis.zrange('ql:t:t', 0, -1)).toEqual(['other']);
    expect(await ctx.redis.zrange('ql:tags', 0, -1, 'WITHSCORES')).toEqual(['u', '0', 't', '1']);
    expect(await ctx.redis.zscore('ql:tracked', 'jid')).toBe('0');
    expect(await core.call(2, 'get', 'jid')).toBeNull();
  });

  it('takes a running job from its lock and worker; afterwards the worker is told it does not exist', async () => {
    await put(0, 'jid');
    await pop(1);
    await core.call(2, 'cancel', 'jid');
    expect(await ctx.redis.exists('ql:q:q-locks', 'ql:w:w:jobs')).toBe(0);
    await expect(core.call(3, 'heartbeat', 'jid', 'w')).rejects.toThrow('Heartbeat(): Job jid does not exist');
    await expect(core.call(3, 'complete', 'jid', 'w', 'q', '{}')).rejects.toThrow('Complete(): Job jid does not exist');
    await expect(core.call(3, 'fail', 'jid', 'w', 'g', 'm')).rejects.toThrow('Fail(): Job jiddoes not exist');
    await expect(core.call(3, 'retry', 'jid', 'q', 'w')).rejects.toThrow('Retry(): Job jid does not exist');
  });

  it('takes scheduled and depends jobs out of their sets', async () => {
    await core.call(0, 'put', 'w', 'q', 'later', 'k', '{}', 10);
    await put(0, 'dep');
    await put(0, 'blocked', 'depends', '["dep"]');
    await core.call(1, 'cancel', 'later', 'blocked');
    expect(await ctx.redis.exists('ql:q:q-scheduled', 'ql:q:q-depends', 'ql:j:blocked-dependencies')).toBe(0);
    // The blocked job stopped being a dependent; `dep` itself is untouched.
    expect(await ctx.redis.exists('ql:j:dep-dependents')).toBe(0);
    expect(await ctx.redis.hget('ql:j:dep', 'state')).toBe('waiting');
  });

  it('skips completed jobs', async () => {
    await put(0, 'jid');
    await pop(1);
    await core.call(2, 'complete', 'jid', 'w', 'q', '{}');
    expect(await core.call(3, 'cancel', 'jid')).toEqual(['jid']);
    expect(await ctx.redis.hget('ql:j:jid', 'state')).toBe('complete');
    expect(await ctx.redis.zrange('ql:completed', 0, -1)).toEqual(['jid']);
  });

  it('takes a failed job out of its group and decrements failed on the failure day', async () => {
    const day = 86400 * 4;
    await put(0, 'a');
    await put(0, 'b');
    await pop(0, 2);
    await core.call(day + 1, 'fail', 'a', 'w', 'grp', 'm');
    await core.call(day + 2, 'fail', 'b', 'w', 'grp', 'm');
    await core.call(day * 2, 'cancel', 'a');
    expect(await ctx.redis.lrange('ql:f:grp', 0, -1)).toEqual(['b']);
    expect(await ctx.redis.hgetall(`ql:s:stats:${day}:q`)).toEqual({ failures: '2', failed: '1' });
    await core.call(day * 2, 'cancel', 'b');
    expect(await ctx.redis.exists('ql:f:grp', 'ql:failures')).toBe(0);
    expect(await ctx.redis.hget(`ql:s:stats:${day}:q`, 'failed')).toBe('0');
  });

  it('refuses, before any write, to cancel a job whose dependents are not all canceled too', async () => {
    await put(0, 'a');
    await put(0, 'b', 'depends', '["a"]');
    await put(0, 'c', 'depends', '["a"]');
    const before = await snapshot(ctx.redis);
    await expect(core.call(1, 'cancel', 'a')).rejects.toThrow(/Cancel\(\): a is a dependency of [bc] but is not mentioned to be canceled/);
    await expect(core.call(1, 'cancel', 'nope', 'a', 'b')).rejects.toThrow('Cancel(): a is a dependency of c but is not mentioned to be canceled');
    expect(await snapshot(ctx.redis)).toEqual(before);
    // Together they go; nothing is released or cascaded.
    await core.call(1, 'cancel', 'a', 'b', 'c');
    expect(await ctx.redis.keys('ql:j:*')).toEqual([]);
    expect(await ctx.redis.exists('ql:q:q-depends', 'ql:q:q-work')).toBe(0);
  });

  it('a dependent can be canceled alone', async () => {
    await put(0, 'a');
    await put(0, 'b', 'depends', '["a"]');
    await core.call(1, 'cancel', 'b');
    expect(await ctx.redis.exists('ql:j:a-dependents')).toBe(0);
    await core.call(1, 'cancel', 'a');
    expect(await dataKeys(ctx.redis)).toEqual(['ql:queues']);
  });

  it('handles thousands of jids in one call', async () => {
    const jids = Array.from({ length: 6000 }, (_, i) => `j${i}`);
    const pipeline = ctx.redis.pipeline();
    for (const jid of jids) pipeline.hset(`ql:j:${jid}`, 'jid', jid, 'state', 'waiting', 'queue', 'q', 'worker', '', 'tags', '{}');
    for (const jid of jids) pipeline.zadd('ql:q:q-work', 0, jid);
    await pipeline.exec();
    const reply = (await core.call(1, 'cancel', ...jids)) as string[];
    expect(reply.length).toBe(6000);
    expect(await ctx.redis.exists('ql:q:q-work')).toBe(0);
    expect(await ctx.redis.keys('ql:j:*')).toEqual([]);
  });
});
