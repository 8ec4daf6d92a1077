/**
 * Lost locks, worker side: whichever way the core takes a job away from a
 * worker, the run holding it is aborted (its AbortSignal fires with
 * `lock_lost`), its result is not completed, and nothing is reported twice —
 * also when the same child pops the job again while the old run still
 * runs, for a job held ahead of its slot, and for the second reclaim of an
 * expired lock (which qless-core, and this core before issue 12, did not
 * announce on the worker's channel: the supervisor's refused heartbeat
 * catches it then).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { allComplete, FIXTURES, sleep, state, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

interface RunNote {
  jid: string;
  pid: number;
  pops: number;
  what: string;
  at: number;
}

/** The Holdout fixture's notes, in order. */
async function notes(client: qless.Client): Promise<RunNote[]> {
  return (await client.redis.lrange('fixture:runs', 0, -1)).map((line) => {
    const [jid, pid, pops, what, at] = line.split(' ');
    return { jid: jid!, pid: Number(pid), pops: Number(pops), what: what!, at: Number(at) };
  });
}

async function aborts(client: qless.Client): Promise<Array<{ jid: string; name: string; kind: string }>> {
  return (await client.redis.lrange('fixture:aborts', 0, -1)).map((text) => JSON.parse(text) as { jid: string; name: string; kind: string });
}

describe('qless-ts-worker and lost locks', { timeout: 60_000 }, () => {
  it('a job timed out by someone else and popped again by the same child: the old run is aborted, cannot complete it, and ends before the new run starts', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('again').put('timing.Holdout', {});
    // One child with a free slot, so that it pops the job again itself.
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'again', '-w', '1', '-c', '2', '-i', '0.2']);
    await until(async () => (await notes(client)).length === 1, 30_000, 'the first run to start');
    await client.call('timeout', jid);
    await until(async () => (await state(client, jid)).state === 'complete', 30_000, 'the job to complete');

    const runs = await notes(client);
    const [first, end, second] = [runs.find((r) => r.pops === 1 && r.what === 'start')!, runs.find((r) => r.what === 'end')!, runs.find((r) => r.pops === 2)!];
    expect(second.pid).toBe(first.pid);
    expect(end.at).toBeLessThanOrEqual(second.at);
    expect(await aborts(client)).toEqual([{ jid, name: 'AbortError', kind: 'lock_lost' }]);
    // The old run's own complete() was refused, although its worker name holds the job again.
    expect(await client.redis.lrange('fixture:after-abort', 0, -1)).toEqual([`${jid} LostLockError`]);
    const job = await state(client, jid);
    expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'timed-out', 'popped', 'done']);
    expect(worker.lines('job aborted', (line) => line.jid === jid)).toHaveLength(1);
    await client.close();
  });

  it('a job held ahead of its slot that loses its lock never runs in that child', async () => {
    const client = qless.client(ctx.url);
    const q = client.queue('held');
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    const before: string[] = [];
    for (let i = 0; i < 60; i++) before.push(await q.put('fast.Note', { log }));
    // Blocks the child's event loop: the jobs popped with it wait, and any
    // news about them waits unread behind the loop.
    const busy = await q.put('timing.Busy', { ms: 3000 });
    const after: string[] = [];
    for (let i = 0; i < 40; i++) after.push(await q.put('fast.Note', { log }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'held', '-w', '1', '-i', '0.2']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 1, 30_000, 'the blocking job to start');
    const held = (await client.jobs.multiget(after)).filter((job) => job.state === 'running');
    expect(held.length).toBeGreaterThan(0);
    // Moved away while held: the core tells the child (lock_lost), which is busy.
    for (const job of held) await job.requeue('elsewhere');
    await until(async () => (await state(client, busy)).state === 'complete', 30_000, 'the blocking job to complete');
    const others = after.filter((jid) => !held.some((job) => job.jid === jid));
    await allComplete(client, [...before, ...others], 30_000);
    await sleep(300);

    const ran = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ')[0]));
    for (const job of held) {
      expect(ran.has(job.jid), `${job.jid} ran after losing its lock`).toBe(false);
      const now = await state(client, job.jid);
      expect([now.state, now.queue]).toEqual(['waiting', 'elsewhere']);
      expect(now.history.some((h) => h.what === 'done')).toBe(false);
    }
    expect(worker.lines('job aborted', (line) => held.some((job) => job.jid === line.jid)).length).toBe(held.length);
    await client.close();
  });

  it('the second reclaim of an expired lock: the run is aborted (by the lock_lost event, or else by its refused heartbeat)', async () => {
    const client = qless.client(ctx.url);
    await client.config.set('reclaim-heartbeat', 1);
    await client.config.set('grace-period', 1);
    const jid = await client.queue('reclaim').put('timing.Holdout', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'reclaim', '-w', '1', '-i', '0.2']);
    await until(async () => (await notes(client)).length === 1, 30_000, 'the job to start');
    // Nobody heartbeats while the whole worker is stopped (a supervisor
    // stopped alone is covered by its child's own heartbeats).
    worker.signalGroup('SIGSTOP');
    const thief = qless.client(ctx.url, { workerName: 'thief' });
    try {
      await sleep(1500);
      // First reclaim: a warning (lock_lost on the worker's channel; it
      // still holds the lock, and its check renews it).
      expect(await thief.queue('reclaim').pop()).toBeNull();
      await sleep(2500);
      // Second reclaim: handed to the thief (older cores said nothing to the worker).
      const stolen = await thief.queue('reclaim').pop();
      expect(stolen?.jid).toBe(jid);
    } finally {
      worker.signalGroup('SIGCONT');
    }
    await until(async () => (await aborts(client)).length === 1, 20_000, 'the old run to be aborted');
    expect(await aborts(client)).toEqual([{ jid, name: 'AbortError', kind: 'lock_lost' }]);
    await until(async () => (await client.redis.llen('fixture:after-abort')) === 1, 20_000, 'the old run to try completing');
    expect(await client.redis.lrange('fixture:after-abort', 0, -1)).toEqual([`${jid} LostLockError`]);
    const job = await state(client, jid);
    expect([job.state, job.worker]).toEqual(['running', 'thief']);
    await (await thief.jobs.get(jid) as qless.Job).complete();
    expect((await state(client, jid)).history.filter((h) => h.what === 'done')).toHaveLength(1);
    await thief.close();
    await client.close();
  });
});
