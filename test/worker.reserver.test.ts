/**
 * `--reserver`: the order a worker asks its queues in. Round-robin (the
 * default, as qless-py's worker) gives every queue a turn, so a busy first
 * queue does not starve the others; ordered drains earlier queues first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { reserver } from '../src/worker/reserver.js';
import { useRedis } from './support/redis.js';
import { allComplete, FIXTURES, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

describe('reserver orders', () => {
  it('ordered keeps the order given; round-robin starts one further each trip; shuffled keeps every queue', () => {
    const ordered = reserver('ordered', ['a', 'b', 'c']);
    expect([ordered(), ordered()]).toEqual([['a', 'b', 'c'], ['a', 'b', 'c']]);
    const rotating = reserver('round-robin', ['a', 'b', 'c']);
    expect([rotating(), rotating(), rotating(), rotating()]).toEqual([['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'], ['a', 'b', 'c']]);
    let seed = 7;
    const shuffled = reserver('shuffled', ['a', 'b', 'c', 'd'], () => ((seed = (seed * 48271) % 2147483647) / 2147483647));
    const orders = Array.from({ length: 20 }, () => shuffled().join(''));
    for (const order of orders) expect([...order].sort().join('')).toBe('abcd');
    expect(new Set(orders).size).toBeGreaterThan(1);
  });
});

describe('qless-ts-worker --reserver', { timeout: 90_000 }, () => {
  /** Run 10 jobs of `busy` and 3 of `quiet` with one slot; the order they ran in. */
  async function runOrder(extra: string[]): Promise<string[]> {
    const client = qless.client(ctx.url);
    const dir = workers.tmp('qless-reserver-');
    const log = join(dir, 'ran.log');
    const jids: string[] = [];
    const tag = extra.join('') || 'default';
    for (let i = 0; i < 10; i++) jids.push(await client.queue('busy').put('fast.Note', { log }, { jid: `busy-${tag}-${i}` }));
    for (let i = 0; i < 3; i++) jids.push(await client.queue('quiet').put('fast.Note', { log }, { jid: `quiet-${tag}-${i}` }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'busy', '-q', 'quiet', '-w', '1', '-c', '1', '-i', '0.2', '-n', `reserver-${tag}`, ...extra]);
    await allComplete(client, jids);
    worker.signal('SIGTERM');
    await worker.waitExit();
    await client.close();
    return readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ')[0]!.split('-')[0]!);
  }

  it('takes turns between queues by default, so a busy first queue does not starve the next', async () => {
    const order = await runOrder([]);
    expect(order).toHaveLength(13);
    // All three quiet jobs ran well before the ten busy ones were done.
    expect(order.lastIndexOf('quiet'), order.join(' ')).toBeLessThan(10);
  });

  it('--reserver ordered drains the earlier queue first', async () => {
    const order = await runOrder(['--reserver', 'ordered']);
    expect(order.slice(0, 10), order.join(' ')).toEqual(Array(10).fill('busy'));
  });

  it('refuses an unknown reserver (exit 2, one line)', async () => {
    const worker = workers.start(['--host', ctx.url, '-q', 'busy', '--reserver', 'fifo']);
    const exit = await worker.waitExit();
    expect(exit.code).toBe(2);
    expect(worker.stderr).toContain("argument 'fifo' is invalid. Allowed choices are ordered, round-robin, shuffled.");
  });
});
