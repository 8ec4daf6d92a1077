import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';

const ctx = useRedis();
const { core, events: recorder } = useCoreAndEvents(ctx);

type Arg = string | number;
const put = (now: number, jid: string, worker = 'w', queue = 'q', ...rest: Arg[]) => core.call(now, 'put', worker, queue, jid, 'k', '{}', 0, ...rest);
const pop = (now: number, worker: string, queue = 'q', count: Arg = 1) => core.call(now, 'pop', queue, worker, count);
const track = (jid: string) => ctx.redis.zadd('ql:tracked', 0, jid);

/** Run `fn` and return what it published, as [channel, payload] pairs in order. */
async function published(fn: () => Promise<unknown>): Promise<Array<[string, string]>> {
  await recorder.settle(15);
  recorder.clear();
  await fn();
  const messages = await recorder.settle(15);
  return messages.map((m) => [m.channel, m.message]);
}

describe('event payload texts (byte for byte)', () => {
  it('put, lock_lost, failed, completed, advanced and canceled match the reference texts', async () => {
    expect(await published(() => put(0, 'jid', 'worker', 'queue'))).toEqual([
      ['ql:log', '{"jid":"jid","event":"put","queue":"queue"}'],
    ]);
    await pop(1, 'worker', 'queue');
    expect(await published(() => core.call(2, 'fail', 'jid', 'worker', 'grp', 'mess'))).toEqual([
      ['ql:log', '{"message":"mess","jid":"jid","group":"grp","event":"failed","worker":"worker"}'],
    ]);
    await put(3, 'jid', 'worker', 'queue');
    await pop(4, 'worker', 'queue');
    expect(await published(() => core.call(5, 'complete', 'jid', 'worker', 'queue', '{}', 'next', 'queue'))).toEqual([
      ['ql:log', '{"jid":"jid","to":"queue","event":"advanced","queue":"queue"}'],
    ]);
    await pop(6, 'worker', 'queue');
    expect(await published(() => core.call(7, 'complete', 'jid', 'worker', 'queue', '{}'))).toEqual([
      ['ql:log', '{"jid":"jid","event":"completed","queue":"queue"}'],
    ]);
    await put(8, 'jid', 'worker', 'queue');
    expect(await published(() => core.call(9, 'cancel', 'jid', 'nonexist'))).toEqual([
      ['ql:log', '{"jid":"jid","queue":"queue","event":"canceled","worker":""}'],
      ['ql:log', '{"jid":"nonexist","queue":false,"event":"canceled","worker":false}'],
    ]);
  });

  it('escapes strings the way cjson does', async () => {
    const jid = 'a/b"c\\d\n\t\u0001\u007f\u00e9';
    expect(await published(() => put(0, jid, 'w', 'q/1'))).toEqual([
      ['ql:log', '{"jid":"a\\/b\\"c\\\\d\\n\\t\\u0001\\u007f\u00e9","event":"put","queue":"q\\/1"}'],
    ]);
  });

  it('stall exhaustion: message names the popped queue, worker is the old holder', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(0, 'jid', 'w', 'queue', 'retries', 0);
    await pop(0, 'worker', 'queue');
    expect(await published(() => pop(60, 'other', 'queue'))).toEqual([
      ['ql:w:worker', '{"jid":"jid","event":"lock_lost","worker":"worker"}'],
      ['ql:log', '{"jid":"jid","event":"lock_lost","worker":"worker"}'],
      ['ql:log', '{"message":"Job exhausted retries in queue \\"queue\\"","jid":"jid","group":"failed-retries-queue","event":"failed","worker":"worker"}'],
    ]);
  });
});

describe('event order per command', () => {
  it('reproduces the observed sequence of the spec (grace-period 0, tracked job)', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '0');
    await put(-1, 'a', 'w0', 'q');
    await track('a');
    const log: Array<[string, string]> = [];
    log.push(...await published(() => pop(0, 'w1')));
    log.push(...await published(() => put(1, 'a', 'w2')));
    log.push(...await published(() => pop(2, 'w1')));
    log.push(...await published(() => pop(200, 'w3')));
    log.push(...await published(() => core.call(201, 'complete', 'a', 'w3', 'q', '{}', 'next', 'q2')));
    log.push(...await published(() => pop(202, 'w4', 'q2')));
    log.push(...await published(() => core.call(203, 'complete', 'a', 'w4', 'q2', '{}')));
    expect(log).toEqual([
      ['ql:popped', 'a'],
      ['ql:log', '{"jid":"a","event":"put","queue":"q"}'],
      ['ql:w:w1', '{"jid":"a","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"a","event":"lock_lost","worker":"w1"}'],
      ['ql:put', 'a'],
      ['ql:popped', 'a'],
      ['ql:stalled', 'a'],
      ['ql:w:w1', '{"jid":"a","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"a","event":"lock_lost","worker":"w1"}'],
      ['ql:popped', 'a'],
      ['ql:completed', 'a'],
      ['ql:log', '{"jid":"a","to":"q2","event":"advanced","queue":"q"}'],
      ['ql:popped', 'a'],
      ['ql:completed', 'a'],
      ['ql:log', '{"jid":"a","event":"completed","queue":"q2"}'],
    ]);
  });

  it('put by the same worker sends no lock_lost; a failed job (worker empty) gets none either', async () => {
    await put(0, 'jid');
    await pop(1, 'w');
    expect(await published(() => put(2, 'jid', 'w'))).toEqual([['ql:log', '{"jid":"jid","event":"put","queue":"q"}']]);
    await pop(3, 'w');
    await core.call(4, 'fail', 'jid', 'w', 'g', 'm');
    expect(await published(() => put(5, 'jid', 'other'))).toEqual([['ql:log', '{"jid":"jid","event":"put","queue":"q"}']]);
  });

  it('put of a retried job notifies the old worker, whose name is still on the job', async () => {
    await put(0, 'jid');
    await pop(1, 'w1');
    await core.call(2, 'retry', 'jid', 'q', 'w1');
    expect(await published(() => put(3, 'jid', 'w2'))).toEqual([
      ['ql:log', '{"jid":"jid","event":"put","queue":"q"}'],
      ['ql:w:w1', '{"jid":"jid","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"jid","event":"lock_lost","worker":"w1"}'],
    ]);
  });

  it('pop with the default grace period: the courtesy step, then the silent invalidation', async () => {
    await put(0, 'jid');
    await track('jid');
    await pop(0, 'w1');
    expect(await published(() => pop(60, 'w2'))).toEqual([
      ['ql:stalled', 'jid'],
      ['ql:w:w1', '{"jid":"jid","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"jid","event":"lock_lost","worker":"w1"}'],
    ]);
    expect(await published(() => pop(70, 'w2'))).toEqual([['ql:popped', 'jid']]);
  });

  it('pop exhaustion of a tracked job: stalled, lock_lost pair, then failed, then the log failure', async () => {
    await ctx.redis.hset('ql:config', 'grace-period', '-5');
    await put(0, 'jid', 'w', 'q', 'retries', 0);
    await track('jid');
    await pop(0, 'w1');
    expect(await published(() => pop(60, 'w2'))).toEqual([
      ['ql:stalled', 'jid'],
      ['ql:w:w1', '{"jid":"jid","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"jid","event":"lock_lost","worker":"w1"}'],
      ['ql:failed', 'jid'],
      ['ql:log', '{"message":"Job exhausted retries in queue \\"q\\"","jid":"jid","group":"failed-retries-q","event":"failed","worker":"w1"}'],
    ]);
  });

  it('an already-warned job that runs out fails with only the failure pair', async () => {
    await put(0, 'jid', 'w', 'q', 'retries', 0);
    await track('jid');
    await pop(0, 'w1');
    await pop(60, 'w2');
    expect(await published(() => pop(70, 'w2'))).toEqual([
      ['ql:failed', 'jid'],
      ['ql:log', '{"message":"Job exhausted retries in queue \\"q\\"","jid":"jid","group":"failed-retries-q","event":"failed","worker":"w1"}'],
    ]);
  });

  it('fail: log then tracked', async () => {
    await put(0, 'jid');
    await track('jid');
    await pop(1, 'w');
    expect(await published(() => core.call(2, 'fail', 'jid', 'w', 'g', 'a/b'))).toEqual([
      ['ql:log', '{"message":"a\\/b","jid":"jid","group":"g","event":"failed","worker":"w"}'],
      ['ql:failed', 'jid'],
    ]);
  });

  it('retry: nothing, except the tracked failed notice on exhaustion', async () => {
    await put(0, 'jid', 'w', 'q', 'retries', 1);
    await track('jid');
    await pop(1, 'w');
    expect(await published(() => core.call(2, 'retry', 'jid', 'q', 'w', 0, 'g', 'm'))).toEqual([]);
    await pop(3, 'w');
    expect(await published(() => core.call(4, 'retry', 'jid', 'q', 'w'))).toEqual([['ql:failed', 'jid']]);
  });

  it('cancel: per jid, log then worker channel then tracked', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await track('a');
    await track('b');
    await track('gone');
    await pop(1, 'w1'); // b
    expect(await published(() => core.call(2, 'cancel', 'b', 'a', 'gone'))).toEqual([
      ['ql:log', '{"jid":"b","queue":"q","event":"canceled","worker":"w1"}'],
      ['ql:w:w1', '{"jid":"b","queue":"q","event":"canceled","worker":"w1"}'],
      ['ql:canceled', 'b'],
      ['ql:log', '{"jid":"a","queue":"q","event":"canceled","worker":""}'],
      ['ql:canceled', 'a'],
      ['ql:log', '{"jid":"gone","queue":false,"event":"canceled","worker":false}'],
      ['ql:canceled', 'gone'],
    ]);
  });

  it('timeout: worker channel then log, per jid', async () => {
    await put(0, 'a');
    await put(0, 'b');
    await pop(1, 'w1');
    await pop(1, 'w2');
    expect(await published(() => core.call(2, 'timeout', 'b', 'a'))).toEqual([
      ['ql:w:w1', '{"jid":"b","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"b","event":"lock_lost","worker":"w1"}'],
      ['ql:w:w2', '{"jid":"a","event":"lock_lost","worker":"w2"}'],
      ['ql:log', '{"jid":"a","event":"lock_lost","worker":"w2"}'],
    ]);
  });

  it('tracked put: log first, ql:put last', async () => {
    await put(0, 'jid');
    await track('jid');
    expect(await published(() => put(1, 'jid'))).toEqual([
      ['ql:log', '{"jid":"jid","event":"put","queue":"q"}'],
      ['ql:put', 'jid'],
    ]);
  });

  it('the read and bookkeeping commands publish nothing', async () => {
    await put(0, 'jid');
    await put(0, 'dep', 'w', 'q', 'depends', '["jid"]');
    await track('jid');
    await pop(1, 'w');
    await put(0, 'f');
    await pop(1, 'w');
    await core.call(1, 'fail', 'f', 'w', 'g', 'm');
    const silent = await published(async () => {
      await core.call(2, 'heartbeat', 'jid', 'w');
      await core.call(2, 'peek', 'q', 5);
      await core.call(2, 'priority', 'jid', 3);
      await core.call(2, 'depends', 'dep', 'on', 'f');
      await core.call(2, 'log', 'jid', 'hi');
      await core.call(2, 'get', 'jid');
      await core.call(2, 'multiget', 'jid', 'dep');
      await core.call(2, 'jobs', 'running', 'q');
      await core.call(2, 'length', 'q');
      await core.call(2, 'queues');
      await core.call(2, 'pause', 'x');
      await core.call(2, 'unpause', 'x');
      await core.call(2, 'failed');
      await core.call(2, 'unfail', 'q', 'g');
      await core.call(2, 'stats', 'q', 2);
      await core.call(2, 'queue.forget', 'x');
    });
    expect(silent).toEqual([]);
  });
});
