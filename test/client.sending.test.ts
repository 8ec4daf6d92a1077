/**
 * How core calls travel: built as one ioredis Command (connection/core-command.ts)
 * on a plain connection, through `redis.call` where ioredis must do more
 * (auto-pipelining, key prefix, friendly error stacks), with the same
 * replies either way; and replies read straight from the socket
 * (connection/redis.ts, directReplies), across reconnections too.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { useRedis } from './support/redis.js';
import { useClients } from './support/client.js';
import type { Client } from '../src/index.js';

const ctx = useRedis();
const make = useClients(ctx);

/**
 * A put, a pop, a completion with the next pop in one trip, a batch with a
 * failing call: what each way of sending must agree on (jids written
 * without the queue's name, which tells the runs apart).
 */
async function lifecycle(client: Client, queueName: string): Promise<unknown[]> {
  const queue = client.queue(queueName);
  const jid = (n: number): string => `${queueName}-${n}`;
  const plainJid = (value: string | undefined): string | undefined => value?.replace(queueName, 'Q');
  const seen: unknown[] = [];
  await queue.put('a.B', { n: 1, text: 'ünïcode ✓' }, { jid: jid(1), tags: ['x'] });
  await queue.put('a.B', { n: 2 }, { jid: jid(2) });
  const first = await queue.pop();
  seen.push(plainJid(first?.jid), first?.data, first?.tags, first?.history.map((entry) => entry.what));
  const next = await queue.completeAndPop([first!]);
  seen.push(next.completed.map((outcome) => outcome.ok), next.jobs.map((job) => plainJid(job.jid)));
  const outcomes = await client.callMany([
    { command: 'complete', args: [jid(1), client.workerName, queueName, '{}'] },
    { command: 'heartbeat', args: [jid(2), client.workerName, '{}'] },
  ]);
  seen.push(outcomes.map((outcome) => (outcome.ok ? typeof outcome.reply : outcome.error.name)));
  return seen;
}

describe('core calls on the wire', () => {
  it('go out as one built command on a plain connection, and through redis.call where ioredis must do more', async () => {
    const plain = make();
    const pipelined = make({ enableAutoPipelining: true });
    const friendly = make({ showFriendlyErrorStack: true });
    const viaCall = [vi.spyOn(pipelined.redis as Redis, 'call'), vi.spyOn(friendly.redis as Redis, 'call')];
    const plainCall = vi.spyOn(plain.redis as Redis, 'call');
    const fromPlain = await lifecycle(plain, 'plain');
    expect(fromPlain).toEqual(['Q-1', { n: 1, text: 'ünïcode ✓' }, ['x'], ['put', 'popped'], [true], ['Q-2'], ['LostLockError', 'number']]);
    expect(await lifecycle(pipelined, 'pipelined')).toEqual(fromPlain);
    expect(await lifecycle(friendly, 'friendly')).toEqual(fromPlain);
    expect(plainCall).not.toHaveBeenCalled();
    for (const spy of viaCall) expect(spy).toHaveBeenCalled();
  });

  it('have their replies read straight from the socket, on every connection the client makes', async () => {
    const client = make();
    const redis = client.redis as Redis;
    await client.config.get('heartbeat');
    // ioredis's own listener, and the one that lets Node hand each chunk over as it is read.
    expect(redis.stream.listenerCount('data')).toBe(2);
    const before = redis.stream;
    redis.disconnect(true);
    await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
    expect(redis.stream).not.toBe(before);
    expect(redis.stream.listenerCount('data')).toBe(2);
    expect(await client.queue('q').put('a.B', {}, { jid: 'after-reconnect' })).toBe('after-reconnect');
  });
});
