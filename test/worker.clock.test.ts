/**
 * Machines whose clocks disagree. The core takes every time from its caller,
 * so a lock runs until the popping worker's `now + heartbeat`, and any pop
 * whose `now` is past that takes the job back. Here two worker daemons run
 * with clocks shifted by libfaketime, one 60 s behind and one 60 s ahead,
 * far beyond the 20 s heartbeat: going by their own clocks, each would take
 * the other's running jobs and run them a second time. qless-ts clients
 * take their `now` from Redis's clock (src/redis-clock.ts), so every job
 * runs exactly once.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, ROOT, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** The environment of a process whose wall clock is `offset` (e.g. `-60s`) off; its timers are left alone. */
function shifted(offset: string): NodeJS.ProcessEnv {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/** Run a small ES module with node, in an environment; resolves with its stdout. */
function runModule(source: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', source], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe('the Redis clock of a lazy connection', () => {
  it('lets the first call connect instead of waiting for a measurement that needs the connection', async () => {
    // With lazyConnect the connection opens for its first command; a process
    // with nothing else to do once used to end with that command unsent.
    const source = `
      import * as qless from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
      const client = qless.client(${JSON.stringify(ctx.url)}, { lazyConnect: true });
      const jid = await client.queue('lazy').put('k.K', {});
      console.log(JSON.stringify({ jid, state: (await client.jobs.get(jid)).state }));
      await client.close();`;
    expect(JSON.parse(await runModule(source, {}))).toMatchObject({ state: 'waiting' });
  });
});

describe('qless-ts-worker on machines whose clocks disagree', { timeout: 90_000 }, () => {
  it.skipIf(!existsSync(LIBFAKETIME))('stamps even a process\'s first call with Redis\'s time, an hour off as its clock is', async () => {
    const source = `
      import * as qless from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
      const client = qless.client(${JSON.stringify(ctx.url)});
      const jid = await client.queue('first').put('k.K', {});
      const job = await client.jobs.get(jid);
      console.log(JSON.stringify({ local: Date.now() / 1000, put: job.history[0].when }));
      await client.close();`;
    const { local, put } = JSON.parse(await runModule(source, shifted('-3600s'))) as { local: number; put: number };
    const [seconds] = await ctx.redis.time();
    expect(Number(seconds) - local).toBeGreaterThan(3500);
    expect(Math.abs(put - Number(seconds))).toBeLessThan(30);
  });

  it.skipIf(!existsSync(LIBFAKETIME))('runs every job once, with one clock 60 s behind and one 60 s ahead', async () => {
    const client = qless.client(ctx.url);
    await client.config.set('heartbeat', 20);
    const jids: string[] = [];
    for (let i = 0; i < 8; i++) jids.push(await client.queue('skew').put('timing.Sleep', { ms: 1500 }));
    const args = ['--host', ctx.url, '-p', FIXTURES, '-q', 'skew', '-w', '1', '-i', '0.1'];
    const behind = workers.start([...args, '-n', 'behind'], { env: shifted('-60s') });
    const ahead = workers.start([...args, '-n', 'ahead'], { env: shifted('+60s') });
    await Promise.all([behind.started(1), ahead.started(1)]);

    await until(async () => (await client.jobs.multiget(jids)).every((job) => job.state === 'complete'), 60_000, () => `every job to complete\n${behind.tail(10)}\n${ahead.tail(10)}`);
    const runs = (await client.redis.lrange('fixture:runs', 0, -1)).map((line) => line.split(' ')[0]!);
    expect(runs.sort()).toEqual([...jids].sort());
    // Both took part, and neither lost a lock to the other.
    const completedBy = new Set((await client.jobs.multiget(jids)).map((job) => job.history.find((entry) => entry.what === 'popped')?.['worker']));
    expect([...completedBy].map((name) => String(name).split('-')[0]).sort()).toEqual(['ahead', 'behind']);
    for (const worker of [behind, ahead]) expect(worker.lines('lock lost')).toEqual([]);
    // The stored times are Redis's: each job's last time within a few seconds of it.
    const [seconds] = await client.redis.time();
    for (const job of await client.jobs.multiget(jids)) expect(Math.abs(job.history.at(-1)!.when - Number(seconds))).toBeLessThan(30);
    await client.close();
  });
});
