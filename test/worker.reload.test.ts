/**
 * Hot reload: a job module edited while the worker runs is used for the
 * next job, without restarting the worker (same supervisor); so is a module
 * it imports; and memory stays flat over many reloads, because children are
 * replaced instead of piling up module copies.
 *
 * `QLESS_TEST_RELOADS=300 npx vitest run test/worker.reload.test.ts` runs the
 * memory check over more reloads (the default keeps the suite short).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { alive, rssOf, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** Replace a file in one step, as editors and deploys do. */
function write(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function moduleSource(version: number): string {
  return `import { label } from './helper.ts';
export class Versioned {
  static process(job: { data: Record<string, unknown> }): void {
    job.data['version'] = ${version};
    job.data['label'] = label;
    job.data['pid'] = process.pid;
  }
}
`;
}

function jobsDir(tmp: string): string {
  const dir = join(tmp, 'jobs');
  mkdirSync(dir, { recursive: true });
  write(join(dir, 'helper.ts'), `export const label = 'first';\n`);
  write(join(dir, 'reloadable.ts'), moduleSource(1));
  return dir;
}

async function run(client: qless.Client, queue: string): Promise<qless.Job> {
  const jid = await client.queue(queue).put('reloadable.Versioned', {});
  let job: qless.Job | null = null;
  await until(async () => {
    const found = await client.jobs.get(jid);
    job = found instanceof qless.Job ? found : null;
    return job?.state === 'complete' || job?.state === 'failed';
  }, 30_000, 'the job to run');
  const done = job as unknown as qless.Job;
  if (done.state !== 'complete') throw new Error(`job failed: ${done.failure?.message}`);
  return done;
}

function supervisorStarts(worker: WorkerProcess): number {
  return worker.lines('supervisor started').length;
}

describe('qless-ts-worker hot reload', { timeout: 60_000 }, () => {
  it('uses an edited job module (and an edited module it imports) for the next job, without a restart', async () => {
    const client = qless.client(ctx.url);
    const tmp = workers.tmp();
    const dir = jobsDir(tmp);
    const worker = workers.start(['--host', ctx.url, '-p', dir, '-q', 'reload', '-w', '1', '-i', '0.2'], { cwd: tmp });
    expect((await run(client, 'reload')).data).toMatchObject({ version: 1, label: 'first' });

    // Edited, and a job put right away: it must not run the old code, even
    // if it reaches the child before the child is replaced.
    write(join(dir, 'reloadable.ts'), moduleSource(2));
    expect((await run(client, 'reload')).data).toMatchObject({ version: 2 });

    // A module the job module imports: once a child has loaded it, a change
    // replaces that child, and the new one loads the new version.
    expect((await run(client, 'reload')).data).toMatchObject({ version: 2, label: 'first' });
    const recycled = worker.lines('child recycled; starting a fresh one').length;
    write(join(dir, 'helper.ts'), `export const label = 'second';\n`);
    await until(() => worker.lines('child recycled; starting a fresh one').length > recycled, 20_000, `the helper change to recycle the child\n${worker.tail()}`);
    expect((await run(client, 'reload')).data).toMatchObject({ version: 2, label: 'second' });

    expect(supervisorStarts(worker)).toBe(1);
    expect(alive(worker.pid)).toBe(true);
    expect(worker.lines('recycling child').map((l) => l['reason'])).toContain(`${join(dir, 'helper.ts')} changed`);
    await client.close();
  });

  const reloads = Number(process.env['QLESS_TEST_RELOADS'] ?? 10);
  it('keeps memory flat over many reloads', async () => {
    const client = qless.client(ctx.url);
    const tmp = workers.tmp();
    const dir = jobsDir(tmp);
    const worker = workers.start(['--host', ctx.url, '-p', dir, '-q', 'memory', '-w', '1', '-i', '0.2'], { cwd: tmp });
    expect((await run(client, 'memory')).data['version']).toBe(1);
    const parentRss: number[] = [rssOf(worker.pid)];
    const started = Date.now();
    for (let version = 2; version <= reloads + 1; version++) {
      write(join(dir, 'reloadable.ts'), moduleSource(version));
      expect((await run(client, 'memory')).data['version']).toBe(version);
      parentRss.push(rssOf(worker.pid));
    }
    const seconds = (Date.now() - started) / 1000;
    // Every child but the current one has exited (a child that took an edit
    // in hand before being replaced may have run two versions).
    await until(() => worker.lines('child exiting').length === worker.lines('child started').length - 1, 20_000, `the recycled children to report\n${worker.tail(80)}`);
    const exits = worker.lines('child exiting');
    const heaps = exits.map((l) => Number(l['heapUsed']));
    const rss = exits.map((l) => Number(l['rss']));
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    const stats = (xs: number[]): string => `first ${mb(xs[0]!)} MB, max ${mb(Math.max(...xs))} MB, last ${mb(xs[xs.length - 1]!)} MB`;
    console.log(
      `${reloads} reloads in ${seconds.toFixed(1)} s, ${exits.length} children replaced:\n` +
        `  supervisor RSS: ${stats(parentRss)}\n  child RSS at exit: ${stats(rss)}\n  child heap at exit: ${stats(heaps)}\n` +
        `  extra module copies per child: max ${Math.max(...exits.map((l) => Number(l['reloads'])))}`,
    );
    // Each child holds at most one extra copy of the module before it is replaced.
    for (const line of exits) expect(Number(line['reloads'])).toBeLessThanOrEqual(1);
    // Flat: the last children use no more than the first ones (plus noise),
    // and the supervisor does not grow with the number of reloads.
    const firstHeaps = heaps.slice(0, 3);
    const lastHeaps = heaps.slice(-3);
    expect(Math.max(...lastHeaps)).toBeLessThan(Math.max(...firstHeaps) * 1.5 + 4 * 1048576);
    const warm = parentRss[Math.min(5, parentRss.length - 1)]!;
    expect(parentRss[parentRss.length - 1]!).toBeLessThan(warm + 25 * 1048576);
    expect(supervisorStarts(worker)).toBe(1);
    await client.close();
  }, Math.max(120_000, reloads * 4000));
});
