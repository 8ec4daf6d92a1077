/**
 * `job.progress` through the client: reporting from the job's holder,
 * reading it back from another client, refusals before anything is sent,
 * and a report from a worker that no longer holds the job.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

async function read(client: qless.Client, jid: string): Promise<qless.Job> {
  const job = await client.jobs.get(jid);
  if (!(job instanceof qless.Job)) throw new Error(`no job ${jid}`);
  return job;
}

describe('job.progress', () => {
  it('reports a number or an object, and another client reads it back', async () => {
    const worker = make({ workerName: 'w1' });
    const other = make({ workerName: 'observer' });
    const jid = await worker.queue('q').put('a.B', {});
    const job = (await worker.queue('q').pop())!;
    expect(job.progress()).toBeNull();
    expect((await read(other, jid)).progress()).toBeNull();
    await job.progress(25);
    expect(job.progress()).toBe(25);
    expect((await read(other, jid)).progress()).toBe(25);
    await job.progress({ done: 3, of: 12, step: 'thumbnails' });
    expect((await read(other, jid)).progress()).toEqual({ done: 3, of: 12, step: 'thumbnails' });
    expect(JSON.parse(JSON.stringify(await read(other, jid))).progress).toEqual({ done: 3, of: 12, step: 'thumbnails' });
  });

  it('refuses anything else before sending it', async () => {
    const client = make();
    await client.queue('q').put('a.B', {}, { jid: 'j' });
    const job = (await client.queue('q').pop())!;
    const before = await ctx.redis.hgetall('ql:j:j');
    for (const bad of [-1, 101, Number.NaN, 'half', [1, 2], null, { big: 'x'.repeat(1100) }]) {
      await expect(job.progress(bad as unknown as qless.ProgressValue)).rejects.toThrow(qless.InvalidArgumentError);
    }
    await expect(job.progress(101)).rejects.toThrow('progress must be a number from 0 to 100 or a JSON object, got 101');
    expect(await ctx.redis.hgetall('ql:j:j')).toEqual(before);
  });

  it('from a worker that no longer holds the job: LostLockError, nothing stored', async () => {
    const first = make({ workerName: 'w1' });
    const second = make({ workerName: 'w2' });
    await first.queue('q').put('a.B', {}, { jid: 'j' });
    const stale = (await first.queue('q').pop())!;
    await stale.timeout();
    await second.queue('q').pop();
    await expect(stale.progress(50)).rejects.toThrow(qless.LostLockError);
    expect((await read(second, 'j')).progress()).toBeNull();
  });
});
