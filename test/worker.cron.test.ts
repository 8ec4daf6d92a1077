/**
 * Cron jobs under the real worker daemon: no scheduler process, the workers'
 * pops make the children (each once, with two workers polling), and the
 * supervisor sends a fresh zone table for a template whose table runs short.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

describe('qless-ts-worker: cron jobs', { timeout: 60_000 }, () => {
  it('runs the children of an every-second cron job, each occurrence once, with two workers', async () => {
    const client = qless.client(ctx.url);
    await client.queue('ticks').recur('basic.Echo', {}, { cron: '* * * * * *', jid: 'tick' });
    for (const name of ['a', 'b']) workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'ticks', '-w', '1', '-c', '2', '-i', '0.1', '-n', name]);
    await until(async () => (await client.jobs.complete(0, 100)).length >= 4, 30_000, 'four children to complete');
    const done = await client.jobs.multiget(await client.jobs.complete(0, 100));
    const times = done.map((job) => job.history[0]!.when);
    // One child per second of the schedule: no occurrence made twice.
    expect(new Set(times).size).toBe(times.length);
    expect(times.every((t) => Number.isInteger(t))).toBe(true);
    expect(done.every((job) => job.spawnedFromJid === 'tick')).toBe(true);
    await client.close();
  });

  it('sends a fresh zone table for a template whose stored one runs short', async () => {
    const client = qless.client(ctx.url);
    await client.queue('nightly').recur('basic.Echo', {}, { cron: '30 2 * * *', timezone: 'Europe/Berlin', jid: 'nightly' });
    // As if stored nine years ago: one year of table left.
    const short = Math.floor(Date.now() / 1000) + 365 * 86_400;
    await ctx.redis.hset('ql:r:nightly', 'zone-until', short);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'nightly', '-w', '1', '-i', '0.2', '-n', 'keeper']);
    await until(async () => Number(await ctx.redis.hget('ql:r:nightly', 'zone-until')) > short + 365 * 86_400, 20_000, 'a fresh table');
    await until(() => worker.logs.some((line) => line.msg === 'sent fresh time-zone tables for cron jobs'), 5000, 'the log line');
    const template = (await client.jobs.get('nightly')) as qless.RecurringJob;
    expect(template.cron).toBe('30 2 * * *');
    await client.close();
  });
});
