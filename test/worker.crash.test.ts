/**
 * Children that die: killed with SIGKILL mid-job, stopped by SIGSTOP (the
 * supervisor kills them), crashing on an uncaught error, or unable to start
 * at all. The supervisor replaces them (with a
 * back-off), gives their jobs back to their queues at once (each using up a
 * retry), and drops their names from the worker list.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { STOPPED_KILL_MS } from '../src/worker/protocol.js';
import { useRedis } from './support/redis.js';
import { alive, FIXTURES, ROOT, state, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/**
 * A one-child daemon whose job's first run hangs, with a lock far longer
 * than the test (the job must come back without its lock expiring): the
 * job's jid, the daemon, and the pid of the child running it.
 */
async function hangingFirstRun(client: qless.Client, queue: string): Promise<{ jid: string; worker: WorkerProcess; pid: number }> {
  await client.config.set(`${queue}-heartbeat`, 600);
  const jid = await client.queue(queue).put('timing.FirstRunHangs', {}, { retries: 3 });
  const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', queue, '-w', '1', '-i', '0.2']);
  await until(async () => (await client.redis.llen('fixture:runs')) === 1, 30_000, 'the first run');
  const [, pid] = (await client.redis.lindex('fixture:runs', 0))!.split(' ');
  return { jid, worker, pid: Number(pid) };
}

describe('qless-ts-worker children that die', { timeout: 60_000 }, () => {
  it('replaces a child killed with SIGKILL mid-job; its job goes back to its queue at once (not when its lock expires) and completes', async () => {
    const client = qless.client(ctx.url);
    const { jid, worker, pid } = await hangingFirstRun(client, 'victim');
    process.kill(pid, 'SIGKILL');

    const died = await worker.waitFor('child died; replacing it');
    expect(died).toMatchObject({ childPid: pid, signal: 'SIGKILL' });
    const [, replacement] = await worker.started(2);
    expect(replacement).not.toBe(pid);
    await until(async () => (await state(client, jid)).state === 'complete', 30_000, 'the retried job to complete');
    const job = await state(client, jid);
    expect(job.data['pops']).toBe(2);
    expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'popped', 'done']);
    expect(job.history.filter((h) => h.what === 'popped').map((h) => h['worker'])).toEqual([expect.stringMatching(`-${pid}$`), expect.stringMatching(`-${replacement}$`)]);
    const given = await worker.waitFor('gave the jobs of a dead child back to their queues (each used up a retry)');
    expect(given).toMatchObject({ worker: expect.stringMatching(`-${pid}$`), jids: [jid] });
    // The dead child's name is off the worker list; the live one is on it.
    const names = (await client.workers.counts()).map((w) => w.name);
    expect(names.some((name) => name.endsWith(`-${pid}`))).toBe(false);
    expect(names.some((name) => name.endsWith(`-${replacement}`))).toBe(true);
    expect(alive(worker.pid)).toBe(true);
    await client.close();
  });

  it('kills and replaces a child stopped by SIGSTOP mid-job, after STOPPED_KILL_MS; its job goes back to its queue and completes', async () => {
    const client = qless.client(ctx.url);
    const { jid, worker, pid } = await hangingFirstRun(client, 'frozen');
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();

    const killed = await worker.waitFor('killing child', () => true, STOPPED_KILL_MS + 15_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(STOPPED_KILL_MS);
    expect(killed).toMatchObject({ childPid: pid, reason: expect.stringContaining('stopped by a signal') });
    expect(await worker.waitFor('child died; replacing it')).toMatchObject({ childPid: pid, signal: 'SIGKILL' });
    const [, replacement] = await worker.started(2);
    await until(async () => (await state(client, jid)).state === 'complete', 30_000, 'the retried job to complete');
    const job = await state(client, jid);
    expect(job.history.filter((h) => h.what === 'popped').map((h) => h['worker'])).toEqual([expect.stringMatching(`-${pid}$`), expect.stringMatching(`-${replacement}$`)]);
    expect(alive(pid)).toBe(false);
    await client.close();
  });

  it('does not kill a child whose job keeps its event loop busy (it answers no pings, but it is running)', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('busy').put('timing.Busy', { ms: STOPPED_KILL_MS + 3000 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'busy', '-w', '1', '-i', '0.2']);
    await until(async () => (await state(client, jid)).state === 'complete', STOPPED_KILL_MS + 30_000, 'the busy job to complete');
    expect(worker.lines('killing child')).toEqual([]);
    expect(worker.lines('child started')).toHaveLength(1);
    expect(await client.redis.lrange('fixture:runs', 0, -1)).toHaveLength(1);
    await client.close();
  });

  it('replaces a child that crashes on an uncaught error; the job fails once its retries are used up', async () => {
    const client = qless.client(ctx.url);
    await client.config.set('crash-heartbeat', 1);
    await client.config.set('grace-period', 0);
    const jid = await client.queue('crash').put('timing.Crash', {}, { retries: 0 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'crash', '-w', '1', '-i', '0.2']);
    const died = await worker.waitFor('child died; replacing it');
    expect(died.code).toBe(1);
    expect(worker.lines('uncaught error in a job (or the worker); the child exits')[0]?.['err']).toMatchObject({ message: 'crash from a timer' });
    await until(async () => (await state(client, jid)).state === 'failed', 30_000, 'the job to fail');
    expect((await state(client, jid)).failure?.group).toBe('failed-retries-crash');
    const next = await client.queue('crash').put('timing.WhoAmI', {});
    await until(async () => (await state(client, next)).state === 'complete', 20_000, 'the next job');
    await client.close();
  });

  it('backs off when children die at start, and still shuts down promptly', async () => {
    const worker = workers.start([
      '--host', ctx.url, '-p', FIXTURES, '-q', 'never', '-w', '1', '-i', '0.2',
      '--import', join(ROOT, 'test/fixtures/preload/crash-in-child.mjs'),
    ]);
    await until(() => worker.lines('child died; replacing it').length >= 4, 30_000, 'four failed starts');
    const delays = worker.lines('child died; replacing it').map((line) => line['restartInMs']);
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(worker.lines('child died; replacing it').every((line) => line.code === 4)).toBe(true);
    expect(worker.lines('child could not start')[0]?.['err']).toMatchObject({ message: 'this child cannot start' });
    worker.signal('SIGTERM');
    expect(await worker.waitExit(5000)).toEqual({ code: 0, signal: null });
  });
});
