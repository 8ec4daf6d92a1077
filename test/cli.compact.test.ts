/**
 * The job-layout option from the command line and the client: known to the
 * CLI (no --force needed), its value checked before anything is sent, and
 * jobs put through the client afterwards stored compactly and read back
 * the same.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, bindCli } from './support/cli.js';
import { useClients } from './support/client.js';
import { snapshot } from './support/raw.js';
import { useRedis } from './support/redis.js';
import type * as qless from '../src/index.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(() => assertBuilt());

describe('config set job-layout', () => {
  it('takes compact without --force, and new jobs are then stored compactly', async () => {
    const set = await cli('config', 'set', 'job-layout', 'compact');
    expect([set.code, set.stdout, set.stderr]).toEqual([0, 'job-layout = compact\n', '']);
    const client = make();
    await client.queue('q').put('k.K', { i: 1 }, { jid: 'j' });
    const raw = await ctx.redis.hgetall('ql:j:j');
    expect(raw.jid).toBeUndefined();
    expect(raw.hn).toBe('p'); // its one history entry made from time and queue
    const job = (await client.jobs.get('j')) as qless.Job | null;
    expect(job?.jid).toBe('j');
    expect(job?.priority).toBe(0);
    expect(job?.retries).toBe(5);
    expect(job?.history.map((h) => h.what)).toEqual(['put']);
    const popped = await client.queue('q').pop();
    expect(popped?.jid).toBe('j');
    expect(popped?.remaining).toBe(5);
    await popped?.complete();
    expect(((await client.jobs.get('j')) as qless.Job | null)?.state).toBe('complete');
  });

  it('refuses any other value (exit 2), storing nothing', async () => {
    const before = await snapshot(ctx.redis);
    const refused = await cli('config', 'set', 'job-layout', 'tiny');
    expect([refused.code, refused.stdout]).toEqual([2, '']);
    expect(refused.stderr).toBe('error: job-layout must be spec or compact; got tiny\n');
    await expect(make().config.set('job-layout', 'tiny')).rejects.toThrow('job-layout must be spec or compact; got tiny');
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect((await cli('config', 'set', 'job-layout', 'spec')).code).toBe(0);
  });
});
