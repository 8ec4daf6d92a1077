/**
 * Locks: long jobs (also CPU-bound ones, also one that blocks its child
 * before the child told the supervisor of it, also while the supervisor is
 * stopped) keep theirs; cancelled or moved
 * jobs see their AbortSignal fire and their late completion refused
 * cleanly; `--timeout` fails and stops a job, even one that ignores its
 * signal or blocks its child.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { SILENT_CHILD_LOG } from '../src/worker/listed-jobs.js';
import { FIXTURES, state, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** Short locks, and a stalled job is handed out again on the first pop after it expired. */
async function shortLocks(client: qless.Client, queue: string, seconds = 2): Promise<void> {
  await client.config.set(`${queue}-heartbeat`, seconds);
  await client.config.set('grace-period', 0);
}

/**
 * Another worker pops `queue` every 250 ms until the job `jid` is complete
 * or it got the job: what it got (nothing, while the job's lock holds).
 */
async function intrude(client: qless.Client, queue: string, jid: string): Promise<string[]> {
  const intruder = qless.client(ctx.url, { workerName: 'intruder' });
  const taken: string[] = [];
  try {
    while (taken.length === 0 && (await state(client, jid)).state !== 'complete') {
      const job = await intruder.queue(queue).pop();
      if (job) taken.push(job.jid);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await intruder.close();
  }
  return taken;
}

/**
 * A one-child daemon on `queue` that has run a first job: that loaded the
 * fixture module, so the next job's code runs in the very tick it starts
 * (no import to wait for).
 */
async function warmWorker(client: qless.Client, queue: string): Promise<WorkerProcess> {
  const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', queue, '-w', '1', '-i', '0.2']);
  const warm = await client.queue(queue).put('timing.Sleep', { ms: 0 });
  await until(async () => (await state(client, warm)).state === 'complete', 20_000, 'the first job');
  return worker;
}

describe('qless-ts-worker locks', { timeout: 60_000 }, () => {
  it('keeps the lock of jobs longer than the heartbeat, also CPU-bound ones, so no other worker gets them', async () => {
    const client = qless.client(ctx.url);
    await shortLocks(client, 'long');
    const busy = await client.queue('long').put('timing.Busy', { ms: 5000 });
    const sleepy = await client.queue('long').put('timing.Sleep', { ms: 5000 });
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'long', '-w', '3', '-i', '0.2']);
    await until(async () => (await state(client, busy)).state === 'complete' && (await state(client, sleepy)).state === 'complete', 20_000, 'both jobs to complete');
    for (const jid of [busy, sleepy]) {
      const job = await state(client, jid);
      expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    }
    const runs = await client.redis.lrange('fixture:runs', 0, -1);
    expect(runs.filter((r) => r.startsWith(busy))).toHaveLength(1);
    expect(runs.filter((r) => r.startsWith(sleepy))).toHaveLength(1);
    expect((await state(client, busy)).data['busy']).toBe(true);
    await client.close();
  });

  it('keeps the lock of a job that blocks its child from its first line, before its claim went out: the supervisor finds it under the child\'s name', async () => {
    const client = qless.client(ctx.url);
    const worker = await warmWorker(client, 'blocks-at-once');
    // 16-s locks: long enough for the claim to wait until the job started
    // (15 s or more left), and the job blocks its child for longer.
    await shortLocks(client, 'blocks-at-once', 16);
    const jid = await client.queue('blocks-at-once').put('timing.BusyAtOnce', { ms: 20_000 });
    // Were the lock not renewed, the intruder would get the job
    // (grace-period 0) once the 16 s are over.
    expect(await intrude(client, 'blocks-at-once', jid)).toEqual([]);
    const job = await state(client, jid);
    expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    expect((await client.redis.lrange('fixture:runs', 0, -1)).filter((r) => r.startsWith(jid))).toHaveLength(1);
    // The job's claim could not go out before its code blocked: the
    // supervisor found it in Redis.
    const found = worker.lines(SILENT_CHILD_LOG);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found[0]).toMatchObject({ jobs: 1, jids: [jid] });
    await client.close();
  });

  it('kills a child whose job, not claimed yet, lost its lock while it blocks the event loop', async () => {
    const client = qless.client(ctx.url);
    const worker = await warmWorker(client, 'blocks-lost');
    const [first] = await worker.started(1);
    await shortLocks(client, 'blocks-lost', 16);
    const jid = await client.queue('blocks-lost').put('timing.BusyAtOnce', { ms: 120_000 });
    await worker.waitFor(SILENT_CHILD_LOG, (line) => line['jobs'] === 1, 20_000);
    // The lock goes while the job's code still blocks its child: the
    // supervisor's next heartbeat is refused, and the child, still silent,
    // is killed (the job would otherwise go on running, unstoppable).
    await client.jobs.cancel(jid);
    await worker.waitFor('killing child', (line) => String(line['reason']).includes(jid), 30_000);
    const [, second] = await worker.started(2);
    expect(second).not.toBe(first);
    // It never got past its blocking loop.
    expect((await client.redis.lrange('fixture:runs', 0, -1)).filter((r) => r.startsWith(jid))).toEqual([]);
    await client.close();
  });

  it('keeps the locks of running jobs while the supervisor is stopped (SIGSTOP): the child heartbeats them itself, so no other worker gets them', async () => {
    const client = qless.client(ctx.url);
    await shortLocks(client, 'frozen-parent', 6);
    const jid = await client.queue('frozen-parent').put('timing.Sleep', { ms: 16_000 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'frozen-parent', '-w', '1', '-i', '0.2']);
    await until(async () => (await client.redis.llen('fixture:runs')) === 1, 20_000, 'the job to start');
    worker.signal('SIGSTOP');
    try {
      // With nobody renewing the 6-s lock the intruder would get the job
      // (grace-period 0) long before the job ends.
      expect(await intrude(client, 'frozen-parent', jid)).toEqual([]);
    } finally {
      worker.signal('SIGCONT');
    }
    const job = await state(client, jid);
    expect(job.state).toBe('complete');
    expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    expect(await client.redis.lrange('fixture:runs', 0, -1)).toHaveLength(1);
    expect(worker.lines('the supervisor has not pinged this child for a while (stopped or blocked): the child heartbeats its own jobs meanwhile')).toHaveLength(1);
    await worker.waitFor('the supervisor answers again; it heartbeats this child\'s jobs again', () => true, 10_000);
    await client.close();
  });

  it('fires the AbortSignal of a cancelled or moved job, refuses its completion cleanly and carries on', async () => {
    const client = qless.client(ctx.url);
    const canceled = await client.queue('abortable').put('timing.WaitForAbort', {});
    const moved = await client.queue('abortable').put('timing.WaitForAbort', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'abortable', '-w', '1', '-c', '2', '-i', '0.2']);
    await until(async () => (await client.redis.llen('fixture:started')) === 2, 30_000, 'both jobs to start');

    await client.jobs.cancel(canceled);
    const job = await state(client, moved);
    await job.requeue('elsewhere');

    await until(async () => (await client.redis.llen('fixture:after-abort')) === 2, 20_000, 'both jobs to see their abort');
    const aborts = (await client.redis.lrange('fixture:aborts', 0, -1)).map((text) => JSON.parse(text) as { jid: string; name: string; kind: string });
    expect(aborts.find((a) => a.jid === canceled)).toMatchObject({ name: 'AbortError', kind: 'canceled' });
    expect(aborts.find((a) => a.jid === moved)).toMatchObject({ name: 'AbortError', kind: 'lock_lost' });
    const after = await client.redis.lrange('fixture:after-abort', 0, -1);
    expect(after).toContain(`${canceled} JobNotFoundError`);
    expect(after).toContain(`${moved} LostLockError`);
    expect((await state(client, moved)).state).toBe('waiting');

    // Same child, still working.
    const next = await client.queue('abortable').put('timing.WhoAmI', {});
    await until(async () => (await state(client, next)).state === 'complete', 20_000, 'the next job');
    expect(worker.lines('child started')).toHaveLength(1);
    expect(worker.lines('child died; replacing it')).toEqual([]);
    await client.close();
  });

  it('--timeout fails a job that runs too long; a child whose job ignores the abort is replaced', async () => {
    const client = qless.client(ctx.url);
    const stuck = await client.queue('slow').put('timing.IgnoreAbort', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'slow', '-w', '1', '-i', '0.2', '--timeout', '1']);
    const [first] = await worker.started(1);
    await until(async () => (await state(client, stuck)).state === 'failed', 20_000, 'the job to time out');
    const failed = await state(client, stuck);
    expect(failed.failure?.group).toBe('slow-timeout');
    expect(failed.failure?.message).toContain('--timeout of 1 s');
    // The job ignores its signal but leaves the event loop free: its child
    // stops taking work and is replaced.
    await worker.waitFor('child recycled; starting a fresh one', () => true, 15_000);
    const [, second] = await worker.started(2);
    expect(second).not.toBe(first);
    const next = await client.queue('slow').put('timing.WhoAmI', {});
    await until(async () => (await state(client, next)).state === 'complete', 20_000, 'a job on the new child');
    expect((await state(client, next)).data['pid']).toBe(second);
    await client.close();
  });

  it('--timeout kills a child whose job blocks its event loop and will not stop', async () => {
    const client = qless.client(ctx.url);
    const spinning = await client.queue('spin').put('timing.SpinForever', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'spin', '-w', '1', '-i', '0.2', '--timeout', '1']);
    const [first] = await worker.started(1);
    await until(async () => (await state(client, spinning)).state === 'failed', 20_000, 'the job to time out');
    expect((await state(client, spinning)).failure?.group).toBe('spin-timeout');
    await worker.waitFor('killing child', () => true, 15_000);
    const [, second] = await worker.started(2);
    expect(second).not.toBe(first);
    const next = await client.queue('spin').put('timing.WhoAmI', {});
    await until(async () => (await state(client, next)).state === 'complete', 20_000, 'a job on the new child');
    await client.close();
  });
});
