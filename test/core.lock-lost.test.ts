/**
 * lock_lost in every path: whenever a job is taken from the worker that
 * holds it (handed to another, failed for it, moved, timed out, overwritten),
 * that worker is told on ql:w:<worker>, and ql:log gets the same text, so
 * that it can abort the job. Heard here through a real subscription.
 */
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

const lost = (jid: string, worker: string) => {
  const message = `{"jid":"${jid}","event":"lock_lost","worker":"${worker}"}`;
  return [{ channel: `ql:w:${worker}`, message }, { channel: 'ql:log', message }];
};
/** The lock_lost messages heard since the last clear, in order. */
async function lockLost(): Promise<Array<{ channel: string; message: string }>> {
  return (await events.settle()).filter((m) => m.message.includes('"lock_lost"'));
}
/** The jids a pop hands out (the core replies {} for none). */
async function popJids(now: number, worker: string, count = 1, queue = 'q'): Promise<string[]> {
  const reply = await core.json<unknown>(now, 'pop', queue, worker, count);
  return Array.isArray(reply) ? reply.map((job: { jid: string }) => job.jid) : [];
}

describe('expired locks reclaimed by pop', () => {
  it('the first reclaim: the courtesy notice, and nothing more when the job is handed on', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await popJids(0, 'w1');
    expect(await popJids(60, 'w2')).toEqual([]);
    expect(await lockLost()).toEqual(lost('a', 'w1'));
    events.clear();
    expect(await popJids(70, 'w2')).toEqual(['a']);
    expect(await lockLost()).toEqual([]);
  });

  it('with grace-period 0: one notice, and the job is handed on in the same pop', async () => {
    await core.call(0, 'config.set', 'grace-period', 0);
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await popJids(0, 'w1');
    await events.settle();
    events.clear();
    expect(await popJids(60, 'w2')).toEqual(['a']);
    expect(await lockLost()).toEqual(lost('a', 'w1'));
  });

  // The `grace` flag of a stall outlives a rescue; the reference then
  // reassigned the job's next stall with no word to its holder.
  it('the second stall of a job whose holder heartbeated after the first notice', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await popJids(0, 'w1');
    await popJids(60, 'w2');
    expect(await core.call(65, 'heartbeat', 'a', 'w1')).toBe(125);
    await events.settle();
    events.clear();
    expect(await popJids(125, 'w2')).toEqual(['a']);
    expect(await lockLost()).toEqual(lost('a', 'w1'));
    await expect(core.call(126, 'heartbeat', 'a', 'w1')).rejects.toThrow('given out to another worker: w2');
  });

  it('a later reclaim of a job completed and put again after a stall', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await popJids(0, 'w1');
    await popJids(60, 'w2');
    await core.call(61, 'complete', 'a', 'w1', 'q', '{}');
    await core.call(62, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    expect(await popJids(62, 'w3')).toEqual(['a']);
    await events.settle();
    events.clear();
    expect(await popJids(200, 'w4')).toEqual(['a']);
    expect(await lockLost()).toEqual(lost('a', 'w3'));
    // The third stall, after that reassignment, gets its courtesy notice again.
    events.clear();
    expect(await popJids(300, 'w5')).toEqual([]);
    expect(await lockLost()).toEqual(lost('a', 'w4'));
  });

  it('a stall that runs out of retries: lock_lost before the failed event', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0, 'retries', 0);
    await popJids(0, 'w1');
    await popJids(60, 'w2');
    await core.call(65, 'heartbeat', 'a', 'w1');
    await events.settle();
    events.clear();
    expect(await popJids(125, 'w2')).toEqual([]);
    expect(await core.json<{ state: string }>(125, 'get', 'a')).toMatchObject({ state: 'failed' });
    const heard = (await events.settle()).map((m) => m.message);
    expect(heard).toEqual([
      lost('a', 'w1')[0]!.message,
      lost('a', 'w1')[1]!.message,
      '{"message":"Job exhausted retries in queue \\"q\\"","jid":"a","group":"failed-retries-q","event":"failed","worker":"w1"}',
    ]);
  });
});

describe('other ways a job leaves its holder', () => {
  it('a put or requeue (move) by another worker name', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await core.call(0, 'put', 'w', 'q', 'b', 'k', '{}', 0);
    await popJids(0, 'w1', 2);
    await events.settle();
    events.clear();
    await core.call(1, 'put', 'admin', 'q', 'a', 'k', '{}', 0);
    await core.call(1, 'requeue', 'admin', 'other', 'b', 'k', '{}', 0);
    expect(await lockLost()).toEqual([...lost('a', 'w1'), ...lost('b', 'w1')]);
  });

  it('a timeout', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await popJids(0, 'w1');
    await events.settle();
    events.clear();
    await core.call(1, 'timeout', 'a');
    expect(await lockLost()).toEqual(lost('a', 'w1'));
  });

  it('a recurring child that overwrites the running job of its name, spawned by pop or by peek', async () => {
    for (const [spawn, worker] of [['pop', 'w1'], ['peek', 'w2']] as const) {
      await core.call(0, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0);
      await popJids(0, worker);
      await core.call(1, 'unrecur', 'r');
      await core.call(10, 'recur', 'q', 'r', 'k', '{}', 'interval', 60, 0);
      await events.settle();
      events.clear();
      if (spawn === 'pop') expect(await popJids(10, 'w9')).toEqual(['r-1']);
      else await core.call(10, 'peek', 'q', 1);
      expect(await lockLost()).toEqual(lost('r-1', worker));
      await core.call(11, 'unrecur', 'r');
      await core.call(11, 'cancel', 'r-1');
    }
  });

  it('nothing when the holder itself puts its job again, or for a job nobody holds', async () => {
    await core.call(0, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    await popJids(0, 'w1');
    await core.call(1, 'put', 'w1', 'q', 'a', 'k', '{}', 0);
    await core.call(2, 'put', 'w2', 'q', 'a', 'k', '{}', 0);
    expect(await lockLost()).toEqual([]);
  });
});
