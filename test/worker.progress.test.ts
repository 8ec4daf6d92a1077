/**
 * Progress under the real worker daemon: a job's code reports with
 * `job.progress(value)` and this test process, another client in another
 * process, reads it (`client.jobs.get(jid)`, and the `progress` events on
 * ql:log) while the job runs.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, state, until, useWorkers, allComplete } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

describe('qless-ts-worker: job.progress', { timeout: 60_000 }, () => {
  it('is visible from another process while the job runs, and announced on ql:log', async () => {
    const client = qless.client(ctx.url);
    const heard: qless.LogEvent[] = [];
    client.events.on('log', (event) => {
      if (event.event === 'progress') heard.push(event);
    });
    await client.events.listen();
    const jid = await client.queue('work').put('progress.Steps', { steps: 2 });
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'work', '-w', '1', '-c', '1', '-i', '0.2', '-n', 'progress']);

    await until(async () => (await state(client, jid)).progress() === 50, 20_000, 'the first report (50)');
    expect((await state(client, jid)).state).toBe('running');
    await ctx.redis.set(`fixture:go:${jid}`, 1);
    await until(async () => (await state(client, jid)).progress() !== 50, 20_000, 'the second report');
    const second = await state(client, jid);
    expect([second.state, second.progress()]).toEqual(['running', { done: 2, of: 2, step: 'part 2' }]);
    expect(second.toJSON().progress).toEqual({ done: 2, of: 2, step: 'part 2' });
    await ctx.redis.set(`fixture:go:${jid}`, 2);

    const [done] = await allComplete(client, [jid], 20_000);
    expect(done!.data['reported']).toEqual({ done: 2, of: 2, step: 'part 2' });
    // A completed job's run is over: its progress is no longer shown.
    expect(done!.progress()).toBeNull();
    await until(() => heard.length >= 2, 5000, 'two progress events');
    expect(heard).toMatchObject([
      { jid, event: 'progress', queue: 'work', progress: 50 },
      { jid, event: 'progress', queue: 'work', progress: { done: 2, of: 2, step: 'part 2' } },
    ]);
    await client.close();
  });
});
