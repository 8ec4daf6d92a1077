import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for events');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('client.events', () => {
  it('passes the jid of tracked jobs to the handlers of each channel', async () => {
    const client = make();
    const seen: string[] = [];
    for (const name of qless.TRACKED_EVENTS) client.events.on(name, (jid) => seen.push(`${name} ${jid}`));
    await client.events.listen();
    expect(client.events.listening).toBe(true);
    const queue = client.queue('q');
    const untracked = await queue.put('a.B', {}, { jid: 'untracked' });
    await (await queue.pop())!.complete();
    const jid = await queue.put('a.B', {}, { jid: 'j' });
    await client.track(jid);
    await queue.put('a.B', {}, { jid });
    const job = (await queue.pop())!;
    await job.complete('next');
    await (await client.queue('next').pop())!.fail('g', 'm');
    await client.untrack(jid);
    await client.track(jid);
    await client.jobs.cancel(jid);
    await until(() => seen.length >= 9);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['track j', 'put j', 'popped j', 'completed j', 'popped j', 'failed j', 'untrack j', 'track j', 'canceled j']);
    expect(seen.some((e) => e.endsWith(untracked))).toBe(false);
  });

  it('decodes ql:log events into typed objects', async () => {
    const client = make();
    const log: qless.LogEvent[] = [];
    client.events.on('log', (event) => log.push(event));
    await client.events.listen();
    const queue = client.queue('q');
    await queue.put('a.B', {}, { jid: 'a' });
    await (await queue.pop())!.complete('r');
    await (await client.queue('r').pop())!.complete();
    await queue.put('a.B', {}, { jid: 'b' });
    await (await queue.pop())!.fail('grp', 'msg');
    await client.jobs.cancel('b', 'missing');
    await client.config.set('heartbeat', 5);
    await client.config.unset('heartbeat');
    await until(() => log.length >= 9);
    expect(log).toEqual([
      { event: 'put', jid: 'a', queue: 'q' },
      { event: 'advanced', jid: 'a', queue: 'q', to: 'r' },
      { event: 'completed', jid: 'a', queue: 'r' },
      { event: 'put', jid: 'b', queue: 'q' },
      { event: 'failed', jid: 'b', group: 'grp', message: 'msg', worker: 'worker-1' },
      { event: 'canceled', jid: 'b', queue: 'q', worker: '' },
      { event: 'canceled', jid: 'missing', queue: false, worker: false },
      { event: 'config_set', option: 'heartbeat', value: '5' },
      { event: 'config_unset', option: 'heartbeat' },
    ]);
    const narrowed = log.find((e): e is qless.AdvancedEvent => e.event === 'advanced');
    expect(narrowed?.to).toBe('r');
  });

  it('delivers a worker channel: lost locks and cancellations', async () => {
    const client = make({ workerName: 'w1' });
    const other = make({ workerName: 'w2' });
    const mine: qless.WorkerEvent[] = [];
    const named: qless.WorkerEvent[] = [];
    client.events.onWorker((event) => mine.push(event));
    other.events.onWorker('w1', (event) => named.push(event));
    await client.events.listen();
    await other.events.listen();
    const queue = client.queue('q');
    await queue.put('a.B', {}, { jid: 'a' });
    await queue.put('a.B', {}, { jid: 'b' });
    await queue.put('a.B', {}, { jid: 'c' });
    await queue.pop(3);
    await ((await other.jobs.get('a')) as qless.Job).requeue('q');
    await ((await other.jobs.get('b')) as qless.Job).timeout();
    await other.jobs.cancel('c');
    await until(() => mine.length >= 3 && named.length >= 3);
    expect(mine).toEqual([
      { event: 'lock_lost', jid: 'a', worker: 'w1' },
      { event: 'lock_lost', jid: 'b', worker: 'w1' },
      { event: 'canceled', jid: 'c', queue: 'q', worker: 'w1' },
    ]);
    expect(named).toEqual(mine);
  });

  it('off removes handlers; handlers added while listening are subscribed', async () => {
    const client = make();
    const seen: string[] = [];
    const handler = (jid: string): void => {
      seen.push(jid);
    };
    client.events.on('track', handler);
    await client.events.listen();
    const jid = await client.queue('q').put('a.B', {});
    await client.track(jid);
    await until(() => seen.length === 1);
    client.events.off('track', handler);
    await client.track(jid);
    const log: string[] = [];
    client.events.on('log', (e) => log.push(e.event));
    await client.events.listen();
    await client.queue('q').put('a.B', {}, { jid });
    await until(() => log.length === 1);
    expect(seen).toEqual([jid]);
  });

  it('reports handler errors to error handlers', async () => {
    const client = make();
    const errors: Error[] = [];
    client.events.on('error', (e) => errors.push(e));
    client.events.on('log', () => {
      throw new Error('boom');
    });
    await client.events.listen();
    await client.queue('q').put('a.B', {});
    await until(() => errors.length === 1);
    expect(errors[0]!.message).toBe('boom');
  });

  it('close() stops delivery and listen() starts again', async () => {
    const client = make();
    const log: string[] = [];
    client.events.on('log', (e) => log.push(e.event));
    await client.events.listen();
    await client.events.close();
    expect(client.events.listening).toBe(false);
    await client.queue('q').put('a.B', {});
    await new Promise((r) => setTimeout(r, 100));
    expect(log).toEqual([]);
    await client.events.listen();
    await client.queue('q').put('a.B', {});
    await until(() => log.length === 1);
  });

  it('refuses unknown event names', () => {
    const client = make();
    expect(() => client.events.on('nope' as 'log', () => undefined)).toThrow(qless.InvalidArgumentError);
  });
});
