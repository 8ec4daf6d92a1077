/**
 * Shutdown: SIGTERM/SIGINT let running jobs finish within --grace and exit
 * 0; a second signal or the end of the grace period stops at once (the jobs
 * come back when their locks expire); a Ctrl-C to the whole process group
 * does not hit the children twice; SIGQUIT waits without a deadline; the
 * children of a supervisor that was killed stop by themselves.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { alive, FIXTURES, processTitle, state, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

async function putSleepers(client: qless.Client, queue: string, ms: number, n: number): Promise<string[]> {
  const jids: string[] = [];
  for (let i = 0; i < n; i++) jids.push(await client.queue(queue).put('timing.Sleep', { ms }));
  return jids;
}

describe('qless-ts-worker shutdown', { timeout: 60_000 }, () => {
  it('SIGTERM: stops popping, lets running jobs finish and exits 0 within the grace period', async () => {
    const client = qless.client(ctx.url);
    const [a, b, c] = await putSleepers(client, 'term', 1500, 3);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'term', '-w', '2', '-i', '0.2', '--grace', '10']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 2, 30_000, 'two jobs to start');
    const children = worker.liveChildren();
    expect(processTitle(worker.pid)).toMatch(/^qless-ts-worker: supervisor of 2 child\(ren\)/);
    for (const pid of children) expect(processTitle(pid)).toMatch(/^qless-ts-worker: child \d working on [0-9a-f]{32} \(timing\.Sleep\)/);
    const signalled = Date.now();
    worker.signal('SIGTERM');
    expect(await worker.waitExit(10_000)).toEqual({ code: 0, signal: null });
    const took = Date.now() - signalled;
    expect(took).toBeLessThan(10_000);
    const states = await Promise.all([a!, b!, c!].map(async (jid) => (await state(client, jid)).state));
    expect(states.sort()).toEqual(['complete', 'complete', 'waiting']);
    for (const pid of children) expect(alive(pid)).toBe(false);
    await client.close();
  });

  it('stops at once at the end of the grace period; the unfinished job comes back after its lock expires', async () => {
    const client = qless.client(ctx.url);
    await client.config.set('grace-heartbeat', 2);
    await client.config.set('grace-period', 0);
    const [jid] = await putSleepers(client, 'grace', 60_000, 1);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'grace', '-w', '1', '-i', '0.2', '--grace', '1']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 1, 30_000, 'the job to start');
    const signalled = Date.now();
    worker.signal('SIGTERM');
    expect(await worker.waitExit(8000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(8000);
    expect(worker.lines('stopping now: unfinished jobs are handed out again when their locks expire')[0]?.['abandoned']).toEqual([jid]);
    // Still locked by the dead worker until the lock expires; then handed out again.
    expect((await state(client, jid!)).state).toBe('running');
    await until(async () => (await client.queue('grace').pop())?.jid === jid, 20_000, 'the job to be handed out again');
    await client.close();
  });

  it('a second SIGTERM stops at once', async () => {
    const client = qless.client(ctx.url);
    await putSleepers(client, 'twice', 60_000, 1);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'twice', '-w', '1', '-i', '0.2', '--grace', '30']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 1, 30_000, 'the job to start');
    worker.signal('SIGTERM');
    await worker.waitFor('shutting down: running jobs have 30 s to finish');
    const second = Date.now();
    worker.signal('SIGTERM');
    expect(await worker.waitExit(8000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - second).toBeLessThan(8000);
    await client.close();
  });

  it('Ctrl-C (SIGINT to the whole process group): children ignore it and finish their jobs on the supervisor\'s word', async () => {
    const client = qless.client(ctx.url);
    const jids = await putSleepers(client, 'ctrlc', 1500, 2);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'ctrlc', '-w', '2', '-i', '0.2']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 2, 30_000, 'the jobs to start');
    worker.signalGroup('SIGINT');
    expect(await worker.waitExit(10_000)).toEqual({ code: 0, signal: null });
    for (const jid of jids) expect((await state(client, jid)).state).toBe('complete');
    expect(worker.lines('child stopping now: running jobs are abandoned and will be handed out again when their locks expire')).toEqual([]);
    expect(worker.lines('child stopping: finishing its jobs').map((l) => l['reason'])).toEqual(['asked to stop', 'asked to stop']);
    await client.close();
  });

  it('SIGQUIT waits for running jobs without a deadline', async () => {
    const client = qless.client(ctx.url);
    const [jid] = await putSleepers(client, 'quit', 2500, 1);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'quit', '-w', '1', '-i', '0.2', '--grace', '0.5']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 1, 30_000, 'the job to start');
    worker.signal('SIGQUIT');
    expect(await worker.waitExit(10_000)).toEqual({ code: 0, signal: null });
    expect((await state(client, jid!)).state).toBe('complete');
    await client.close();
  });

  it('children stop by themselves when their supervisor is killed', async () => {
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'orphans', '-w', '2', '-i', '0.2']);
    const children = await worker.started(2);
    worker.signal('SIGKILL');
    await until(() => children.every((pid) => !alive(pid)), 20_000, 'the orphaned children to exit');
  });
});
