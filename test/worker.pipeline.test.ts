/**
 * Throughput and polling: a thousand gnomes through three queues with two
 * children, none lost or run twice; an idle worker wakes on a put instead of
 * waiting out its interval; concurrency inside one child.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, ROOT, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();
const EXAMPLES = join(ROOT, 'examples', 'jobs');

describe('qless-ts-worker pipeline', { timeout: 60_000 }, () => {
  it('takes 1,000 gnomes jobs through underpants → unknown → profit with --workers 2, none lost or run twice', async () => {
    const client = qless.client(ctx.url);
    const total = 1000;
    const calls = Array.from({ length: total }, (_, i) => ({
      command: 'put',
      args: [client.workerName, 'underpants', `gnome-${i}`, 'gnomes.GnomesJob', JSON.stringify({ n: i }), 0] as const,
    }));
    for (const outcome of await client.callMany(calls.map((c) => ({ command: c.command, args: [...c.args] })))) expect(outcome.ok).toBe(true);

    const started = Date.now();
    const worker = workers.start(['--host', ctx.url, '-p', EXAMPLES, '-q', 'underpants', '-q', 'unknown', '-q', 'profit', '-w', '2', '-i', '0.5', '-n', 'gnomes']);
    let done = 0;
    await until(async () => (done = (await client.jobs.complete(0, total)).length) === total, 90_000, () => `all gnomes to complete (${done} of ${total} did)\n${worker.tail(60)}`);
    const seconds = (Date.now() - started) / 1000;

    const jids = Array.from({ length: total }, (_, i) => `gnome-${i}`);
    const jobs: qless.Job[] = [];
    for (let i = 0; i < total; i += 250) jobs.push(...(await client.jobs.multiget(jids.slice(i, i + 250))));
    expect(jobs).toHaveLength(total);
    const expected = 'put:underpants popped done put:unknown popped done put:profit popped done';
    const bad = jobs.filter((job) => job.state !== 'complete' || job.history.map((h) => (h.what === 'put' ? `put:${h.q}` : h.what)).join(' ') !== expected);
    expect(bad.map((job) => `${job.jid} ${job.state} ${job.history.map((h) => h.what).join(',')}`)).toEqual([]);
    for (const job of jobs) expect(job.data['steps']).toEqual(['underpants', 'unknown', 'profit']);

    // Both children did work, each under its own <name>-<pid>.
    const children = await worker.started(2);
    const poppers = new Set(jobs.flatMap((job) => job.history.filter((h) => h.what === 'popped').map((h) => h['worker'])));
    expect([...poppers].sort()).toEqual(children.map((pid) => `gnomes-${pid}`).sort());
    expect(worker.lines('job failed')).toEqual([]);
    console.log(`1,000 gnomes × 3 queues with --workers 2: ${seconds.toFixed(1)} s (${Math.round((3 * total) / seconds)} jobs/s)`);
    await client.close();
  }, 120_000);

  it('wakes at once on a put, without waiting out a long --interval', async () => {
    const client = qless.client(ctx.url);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'wake', '-w', '1', '-i', '60']);
    await worker.started(1);
    // Let the first (empty) poll happen, so the child is asleep.
    await new Promise((r) => setTimeout(r, 300));
    const put = Date.now();
    const jid = await client.queue('wake').put('timing.WhoAmI', {});
    await until(async () => (await client.jobs.get(jid))?.state === 'complete', 20_000, 'the job to run');
    // Far sooner than the 60 s interval (a generous bound, for a loaded machine).
    expect(Date.now() - put).toBeLessThan(6000);
    await client.close();
  });

  it('runs up to --concurrency I/O-bound jobs at once in one child', async () => {
    const client = qless.client(ctx.url);
    const jids: string[] = [];
    for (let i = 0; i < 8; i++) jids.push(await client.queue('io').put('timing.Sleep', { ms: 1500 }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'io', '-w', '1', '-c', '8', '-i', '0.2']);
    await worker.started(1);
    const started = Date.now();
    await until(async () => (await client.jobs.multiget(jids)).every((job) => job.state === 'complete'), 20_000, 'the jobs to complete');
    // Eight jobs of 1.5 s each, at once: far less than the 12 s one by one.
    expect(Date.now() - started).toBeLessThan(8000);
    const pids = new Set((await client.redis.lrange('fixture:runs', 0, -1)).map((line) => line.split(' ')[1]));
    expect(pids.size).toBe(1);
    await client.close();
  });
});
