/**
 * What children leave in the core's worker list: a child that exits cleanly
 * (recycled, or at shutdown) drops its name; one that exits still holding a
 * job (stopped at once) stays listed, so that `--resume` can find the job.
 * (A child that dies is dealt with by its supervisor: test/worker.crash.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { allComplete, FIXTURES, state, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** The worker names the core lists for children of `name`. */
async function listed(client: qless.Client, name: string): Promise<string[]> {
  return (await client.workers.counts()).map((w) => w.name).filter((n) => n.startsWith(`${name}-`)).sort();
}

describe('qless-ts-worker and the worker list', { timeout: 60_000 }, () => {
  it('a recycled child drops its name from the worker list; the live child stays', async () => {
    const client = qless.client(ctx.url);
    const jids: string[] = [];
    for (let i = 0; i < 5; i++) jids.push(await client.queue('tidy').put('timing.WhoAmI', {}));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'tidy', '-w', '1', '-i', '0.2', '-n', 'tidy', '--max-jobs', '2']);
    await allComplete(client, jids, 30_000);
    await until(() => worker.lines('child recycled; starting a fresh one').length === 2, 20_000, 'two recycles');
    const pids = [...new Set((await client.jobs.multiget(jids)).map((job) => Number(job.data['pid'])))];
    expect(pids).toHaveLength(3);
    const last = pids.find((pid) => worker.liveChildren().includes(pid))!;
    await until(async () => (await listed(client, 'tidy')).length === 1, 10_000, 'the recycled children to leave the list');
    expect(await listed(client, 'tidy')).toEqual([`tidy-${last}`]);
    await client.close();
  });

  it('after a graceful shutdown no child of the daemon is listed', async () => {
    const client = qless.client(ctx.url);
    const jids: string[] = [];
    for (let i = 0; i < 4; i++) jids.push(await client.queue('bye').put('timing.Sleep', { ms: 300 }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'bye', '-w', '2', '-i', '0.2', '-n', 'bye']);
    await allComplete(client, jids, 30_000);
    expect((await listed(client, 'bye')).length).toBeGreaterThan(0);
    worker.signal('SIGTERM');
    expect(await worker.waitExit(15_000)).toEqual({ code: 0, signal: null });
    expect(await listed(client, 'bye')).toEqual([]);
    await client.close();
  });

  it('a child stopped at once while holding a job stays listed with it, for --resume', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('held').put('timing.Sleep', { ms: 60_000 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'held', '-w', '1', '-i', '0.2', '-n', 'held', '--grace', '0.5']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 1, 30_000, 'the job to start');
    worker.signal('SIGTERM');
    expect(await worker.waitExit(15_000)).toEqual({ code: 0, signal: null });
    const holder = (await state(client, jid)).worker;
    expect(await listed(client, 'held')).toEqual([holder]);
    expect((await client.workers.get(holder)).jobs).toEqual([jid]);
    await client.close();
  });
});
