/**
 * Retries with backoff (issue 13, item 1), against the real worker daemon:
 * a job class's `static retry` policy, UnrecoverableError, the worker's
 * --retry-backoff default for classes without one; and the delay rule
 * itself.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { decide, retryDelay } from '../src/worker/retry.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** When the job was popped, in seconds, oldest first. */
function pops(job: qless.Job): number[] {
  return job.history.filter((entry) => entry.what === 'popped').map((entry) => Number(entry.when));
}

async function settled(client: qless.Client, jid: string, state: 'complete' | 'failed'): Promise<qless.Job> {
  let job: qless.Job | undefined;
  await until(async () => {
    const found = await client.jobs.get(jid);
    job = found instanceof qless.Job ? found : undefined;
    return job?.state === state;
  }, 30_000, () => `job ${jid} to be ${state} (it is ${job?.state})`);
  return job!;
}

describe('retry delays', () => {
  it('fixed, exponential (capped, with and without jitter) and a function of its own', () => {
    expect(retryDelay({ backoff: 'fixed', delay: 3 }, 4, new Error('x'))).toBe(3);
    expect([1, 2, 3, 4].map((n) => retryDelay({ backoff: 'exponential', delay: 5, jitter: false }, n, null))).toEqual([5, 10, 20, 40]);
    expect(retryDelay({ backoff: 'exponential', delay: 5, maxDelay: 30, jitter: false }, 10, null)).toBe(30);
    // Jitter draws from [d/2, d].
    expect(retryDelay({ backoff: 'exponential', delay: 4 }, 2, null, () => 0)).toBe(4);
    expect(retryDelay({ backoff: 'exponential', delay: 4 }, 2, null, () => 0.999999)).toBeCloseTo(8, 3);
    expect(retryDelay({ backoff: (attempt, error) => attempt * 10 + ((error as Error).message === 'slow' ? 1 : 0) }, 2, new Error('slow'))).toBe(21);
    expect(retryDelay({ backoff: () => -5 }, 1, null)).toBe(0);
    expect(retryDelay({ backoff: 'fixed' }, 1, null)).toBe(5);
  });

  it('retries only with a policy, retries left and an error that is not unrecoverable', () => {
    const policy = { backoff: 'fixed', delay: 1 } as const;
    expect(decide(new Error('x'), undefined, 1, 5)).toEqual({ retry: false });
    expect(decide(new Error('x'), policy, 1, 5)).toEqual({ retry: true, delay: 1 });
    expect(decide(new Error('x'), policy, 6, 0)).toEqual({ retry: false });
    expect(decide(new qless.UnrecoverableError('no'), policy, 1, 5)).toEqual({ retry: false });
    expect(decide(new Error('x'), { backoff: () => { throw new Error('bad policy'); } }, 1, 5)).toEqual({ retry: false });
  });
});

describe('qless-ts-worker retries with backoff', { timeout: 60_000 }, () => {
  it('exponential: throws twice, completes on its third attempt, with delays that grew', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('rq').put('observe.Flaky', {});
    // A long --interval: the child pops again when the retry is due, not at its next poll.
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'rq', '-w', '1', '-i', '10']);
    const job = await settled(client, jid, 'complete');
    // The line follows the core's reply: it may reach this process after the job's new state.
    await worker.waitFor('job completed', (l) => l.jid === jid);
    expect(job.data['attempt']).toBe(3);
    const retried = worker.lines('job retried', (l) => l.jid === jid);
    expect(retried.map((l) => l['attempt'])).toEqual([1, 2]);
    const [d1, d2] = retried.map((l) => Number(l['delay']));
    // delay 1 s, exponential, jitter [d/2, d]: [0.5, 1], then [1, 2].
    expect(d1).toBeGreaterThanOrEqual(0.5);
    expect(d1).toBeLessThanOrEqual(1);
    expect(d2).toBeGreaterThanOrEqual(1);
    expect(d2).toBeLessThanOrEqual(2);
    // History times are whole seconds: the log lines' times (ms) show the gaps.
    const [t1, t2, t3] = worker.logs.filter((l) => l.jid === jid && typeof l['outcome'] === 'string').map((l) => Number(l['time']));
    console.log(`retry delays ${d1!.toFixed(3)} s, ${d2!.toFixed(3)} s; attempts ${((t2! - t1!) / 1000).toFixed(3)} s and ${((t3! - t2!) / 1000).toFixed(3)} s apart`);
    expect(t2! - t1!).toBeGreaterThanOrEqual(d1! * 1000 - 20);
    expect(t3! - t2!).toBeGreaterThanOrEqual(d2! * 1000 - 20);
    expect(t2! - t1!).toBeLessThan(d1! * 1000 + 3000);
    expect(t3! - t2!).toBeLessThan(d2! * 1000 + 3000);
    expect(job.history.filter((e) => e.what === 'popped')).toHaveLength(3);
    await client.close();
  });

  it('always throws: fails into <queue>-<ErrorName> once its retries are spent', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('rq').put('observe.Hopeless', {}, { retries: 2 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'rq', '-w', '1', '-i', '0.1']);
    const job = await settled(client, jid, 'failed');
    await worker.waitFor('job failed', (l) => l.jid === jid);
    expect(job.failure).toMatchObject({ group: 'rq-FlakyError', message: expect.stringContaining('attempt 3 failed again') });
    expect(pops(job)).toHaveLength(3);
    expect(worker.lines('job retried', (l) => l.jid === jid).map((l) => l['delay'])).toEqual([0.2, 0.2]);
    expect(worker.lines('job failed', (l) => l.jid === jid)).toMatchObject([{ attempt: 3, group: 'rq-FlakyError' }]);
    expect(await client.jobs.failed('rq-FlakyError')).toMatchObject({ total: 1, jobs: [{ jid }] });
    await client.close();
  });

  it('UnrecoverableError fails at once, whatever the policy', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('rq').put('observe.Declined', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'rq', '-w', '1', '-i', '0.1']);
    const job = await settled(client, jid, 'failed');
    expect((await worker.waitFor('job failed', (l) => l.jid === jid))['attempt']).toBe(1);
    expect(job.failure).toMatchObject({ group: 'rq-CardDeclined', message: expect.stringContaining('the card was declined') });
    expect(pops(job)).toHaveLength(1);
    expect(job.remaining).toBe(job.retries);
    expect(worker.lines('job retried')).toEqual([]);
    await client.close();
  });

  it('--retry-backoff gives classes without a policy one; without it they fail at once', async () => {
    const client = qless.client(ctx.url);
    const retried = await client.queue('flag').put('observe.Plain', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'flag', '-w', '1', '-i', '0.1', '--retry-backoff', 'fixed', '--retry-delay', '0.3']);
    const job = await settled(client, retried, 'complete');
    await worker.waitFor('job completed', (l) => l.jid === retried);
    expect(pops(job)).toHaveLength(2);
    expect(worker.lines('job retried', (l) => l.jid === retried).map((l) => l['delay'])).toEqual([0.3]);
    // A class with its own policy keeps it (Hopeless: fixed 0.2 s).
    const own = await client.queue('flag').put('observe.Hopeless', {}, { retries: 1 });
    await settled(client, own, 'failed');
    await worker.waitFor('job failed', (l) => l.jid === own);
    expect(worker.lines('job retried', (l) => l.jid === own).map((l) => l['delay'])).toEqual([0.2]);

    const plain = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'noflag', '-w', '1', '-i', '0.1']);
    const failed = await client.queue('noflag').put('observe.Plain', {});
    const once = await settled(client, failed, 'failed');
    await plain.waitFor('job failed', (l) => l.jid === failed);
    expect(once.failure?.group).toBe('noflag-FlakyError');
    expect(pops(once)).toHaveLength(1);
    expect(plain.lines('job retried')).toEqual([]);
    await client.close();
  });
});
