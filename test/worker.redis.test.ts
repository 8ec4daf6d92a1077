/**
 * Redis going away: the test's redis-server is stopped for a few seconds
 * while jobs run, then started again. The worker waits (no crash, no lost
 * job), says so once per process, and finishes every job.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, sleep, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

describe('qless-ts-worker and a Redis that may delete keys when full', { timeout: 60_000 }, () => {
  it('warns at start when maxmemory-policy is not noeviction, and not when it is', async () => {
    const quiet = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'evict', '-w', '1', '-i', '0.2']);
    await quiet.started(1);
    await sleep(300);
    expect(quiet.logs.filter((line) => String(line.msg).includes('maxmemory-policy'))).toEqual([]);
    await ctx.redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'evict', '-w', '1', '-i', '0.2']);
      const line = await worker.waitFor('Redis\'s maxmemory-policy is allkeys-lru: once it reaches maxmemory it deletes any key, so jobs, queues and locks can vanish without a word. qless needs noeviction (writes are refused instead and nothing stored is lost): set maxmemory-policy noeviction');
      expect(line).toMatchObject({ level: 40, policy: 'allkeys-lru', nodes: [ctx.url.replace('redis://', '')] });
    } finally {
      await ctx.redis.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });
});

describe('qless-ts-worker and a misspelt --queue', { timeout: 60_000 }, () => {
  it('warns about a queue no job was ever put in that looks like a known one misspelt, and pops it all the same', async () => {
    const client = qless.client(ctx.url);
    await client.queue('emails').put('timing.Sleep', { ms: 1 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'emials', '-q', 'emails', '-q', 'brand-new', '-w', '1', '-i', '0.2']);
    const typo = await worker.waitFor('no job has ever been put in queue emials (did you mean emails?); this worker pops it all the same and runs its jobs once some are put');
    expect(typo).toMatchObject({ level: 40, queue: 'emials', didYouMean: 'emails' });
    // Popped all the same: a job put in the misspelt queue runs.
    const jid = await client.queue('emials').put('timing.Sleep', { ms: 1 });
    await until(async () => (await client.jobs.get(jid))?.state === 'complete', 20_000, 'the misspelt queue\'s job to complete');
    // A queue that is merely new (no known queue is a typo away) is nothing to warn about.
    expect(worker.logs.filter((line) => String(line.msg).startsWith('no job has ever been put in queue'))).toHaveLength(1);
    await client.close();
  });
});

describe('qless-ts-worker and a Redis outage', { timeout: 60_000 }, () => {
  it('waits for Redis to come back, then completes every job', async (test) => {
    if (!ctx.server) test.skip();
    const server = ctx.server!;
    const client = qless.client(ctx.url);
    // Short locks, so that even a pop whose reply died with the server would
    // be handed out again within the test.
    await client.config.set('heartbeat', 5);
    await client.config.set('grace-period', 0);
    const jids: string[] = [];
    for (let i = 0; i < 20; i++) jids.push(await client.queue('outage').put('timing.Sleep', { ms: 400 }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'outage', '-w', '2', '-i', '0.2']);
    await worker.started(2);
    await until(async () => (await client.redis.llen('fixture:runs')) >= 4, 30_000, 'some jobs to run');

    // Keep what is in memory across the restart (the test server saves nothing by default).
    await client.redis.config('SET', 'save', '3600 1');
    // The suite's own connection reconnects too; it need not shout about it.
    ctx.redis.on('error', () => undefined);
    await server.stop();
    await sleep(3000);
    await server.start();

    await until(async () => (await client.jobs.multiget(jids)).every((job) => job.state === 'complete'), 40_000, `every job to complete\n${worker.tail()}`);
    for (const job of await client.jobs.multiget(jids)) {
      expect(job.history.filter((h) => h.what === 'done')).toHaveLength(1);
    }
    const pids = [worker.pid, ...worker.liveChildren()];
    for (const pid of pids) {
      expect(worker.lines('Redis unavailable; waiting for it to come back', (l) => l.pid === pid), `pid ${pid}`).toHaveLength(1);
      expect(worker.lines('Redis reconnected', (l) => l.pid === pid), `pid ${pid}`).toHaveLength(1);
    }
    expect(worker.lines('child died; replacing it')).toEqual([]);
    expect(worker.lines('job failed')).toEqual([]);
    expect(worker.stderr).toBe('');
    await client.close();
  }, 90_000);
});
