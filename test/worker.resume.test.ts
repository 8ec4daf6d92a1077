/**
 * --resume: jobs still locked under this worker's name (a previous run's
 * `<name>-<pid>`) are taken back first, split among the first children, and
 * never re-resumed by a replacement child.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, sleep, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** Jobs popped by a worker that then died: locked under `holder`. */
async function orphans(holder: string, queue: string, n: number, data: Record<string, number>): Promise<string[]> {
  const client = qless.client(ctx.url, { workerName: holder });
  for (let i = 0; i < n; i++) await client.queue(queue).put('timing.Sleep', data);
  const jids = (await client.queue(queue).pop(n)).map((job) => job.jid);
  await client.close();
  return jids;
}

describe('qless-ts-worker --resume', { timeout: 60_000 }, () => {
  it('leaves jobs held under its name alone without --resume', async () => {
    const client = qless.client(ctx.url);
    const [jid] = await orphans('resumer-99999', 'res', 1, { ms: 100 });
    await workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'res', '-w', '1', '-i', '0.2', '-n', 'resumer']).started(1);
    await sleep(1500);
    const job = (await client.jobs.get(jid!)) as qless.Job;
    expect([job.state, job.worker]).toEqual(['running', 'resumer-99999']);
    await client.close();
  });

  it('takes back its jobs first, split among its children, and a replacement child does not take them again', async () => {
    const client = qless.client(ctx.url);
    await client.config.set('res-heartbeat', 2);
    await client.config.set('grace-period', 0);
    const mine = await orphans('resumer-99999', 'res', 3, { ms: 2500 });
    const [bare] = await orphans('resumer', 'res', 1, { ms: 100 });
    const [foreign] = await orphans('someone-else-1', 'res', 1, { ms: 100 });
    const [otherQueue] = await orphans('resumer-99998', 'not-mine', 1, { ms: 100 });

    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'res', '-w', '2', '-i', '0.2', '-n', 'resumer', '--resume']);
    await until(async () => (await client.redis.llen('fixture:runs')) >= 3, 30_000, 'the resumed jobs to start');
    const runs = await client.redis.lrange('fixture:runs', 0, -1);
    expect(new Set(runs.map((r) => r.split(' ')[1])).size).toBe(2);
    // Not someone-else-1's job, nor one in a queue this worker does not work.
    expect(worker.lines('resuming job').map((l) => l.jid).sort()).toEqual([...mine, bare!].sort());
    expect(foreign).toBeDefined();

    // Kill the child running two of them; its replacement resumes nothing.
    const victim = Number(runs[0]!.split(' ')[1]);
    process.kill(victim, 'SIGKILL');
    await worker.started(3);

    const all = [...mine, bare!];
    await until(async () => (await client.jobs.multiget(all)).every((job) => job.state === 'complete'), 20_000, 'the resumed jobs to complete');
    const done = await client.jobs.multiget(all);
    for (const job of done) expect(job.history.filter((h) => h.what === 'done')).toHaveLength(1);
    // Jobs of the surviving child ran once: resumed, never popped again.
    const survivor = worker.liveChildren().find((pid) => pid !== victim && runs.some((r) => r.endsWith(` ${pid} res`)));
    const survivorJobs = runs.filter((r) => r.split(' ')[1] === String(survivor)).map((r) => r.split(' ')[0]!);
    expect(survivorJobs.length).toBeGreaterThan(0);
    const after = await client.redis.lrange('fixture:runs', 0, -1);
    for (const jid of survivorJobs) {
      expect(after.filter((r) => r.startsWith(jid))).toHaveLength(1);
      const job = done.find((j) => j.jid === jid)!;
      expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    }
    expect(worker.lines('resuming job')).toHaveLength(4);

    expect(((await client.jobs.get(otherQueue!)) as qless.Job).worker).toBe('resumer-99998');
    await client.close();
  });
});
