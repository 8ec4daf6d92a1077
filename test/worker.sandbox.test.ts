/**
 * Sandboxes: child k works in <workdir>/qless-ts-workers/sandbox-<k>/,
 * emptied before and after every job; files a job writes land there; with
 * --concurrency > 1 each running job has a slot directory of its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

async function complete(client: qless.Client, jids: string[]): Promise<qless.Job[]> {
  let jobs: qless.Job[] = [];
  await until(async () => {
    jobs = await client.jobs.multiget(jids);
    return jobs.every((job) => job.state === 'complete' || job.state === 'failed');
  }, 30_000, 'the jobs to finish');
  for (const job of jobs) expect(job.failure).toBeNull();
  return jobs;
}

/** Every file below `dir` (directories are listed too, with a trailing slash). */
function tree(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).map((e) => `${join(e.parentPath, e.name).slice(dir.length + 1)}${e.isDirectory() ? '/' : ''}`).sort();
}

describe('qless-ts-worker sandboxes', { timeout: 60_000 }, () => {
  it('gives each child its own sandbox as working directory, emptied before and after every job', async () => {
    const client = qless.client(ctx.url);
    const workdir = workers.tmp();
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'box', '-w', '2', '-i', '0.2', '--workdir', workdir]);
    await worker.started(2);
    const root = join(workdir, 'qless-ts-workers');
    expect(readdirSync(root).sort()).toEqual(['sandbox-0', 'sandbox-1', 'supervisor.pid']);
    // Something left behind (by a crash, say) is gone before the next job.
    for (const k of [0, 1]) writeFileSync(join(root, `sandbox-${k}`, 'leftover.txt'), 'old');

    const jids = [await client.queue('box').put('basic.Sandboxed', {}), await client.queue('box').put('basic.Sandboxed', {})];
    const jobs = await complete(client, jids);
    for (const job of jobs) {
      const sandbox = String(job.data['sandbox']);
      expect(sandbox).toMatch(new RegExp(`^${root}/sandbox-[01]$`));
      expect(job.data['cwd']).toBe(sandbox);
      expect(job.data['before']).toEqual([]);
      expect(job.data['after']).toEqual(['mine.txt', 'nested', 'relative.txt']);
      expect(job.data['relativeLanded']).toBe(true);
    }
    // (A child that ran no job still has its leftover: only used sandboxes are checked.)
    const used = [...new Set(jobs.map((job) => String(job.data['sandbox'])))];
    await until(() => used.every((dir) => tree(dir).length === 0), 5000, `the sandboxes to be emptied: ${used.map((dir) => tree(dir).join(', ')).join(' / ')}`);
    await client.close();
  });

  it('still empties a sandbox it knows to be empty when something lands in it between jobs', async () => {
    const client = qless.client(ctx.url);
    const workdir = workers.tmp();
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'idlebox', '-w', '1', '-i', '60', '--workdir', workdir]);
    await worker.started(1);
    const sandbox = join(workdir, 'qless-ts-workers', 'sandbox-0');
    for (let i = 0; i < 3; i++) {
      // A job that writes nothing, once the last changes are old: its
      // sandbox is then known empty, and checked with a stat rather than
      // listed (src/worker/known-empty.ts).
      await new Promise((resolve) => setTimeout(resolve, 200));
      await complete(client, [await client.queue('idlebox').put('basic.Echo', {})]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      writeFileSync(join(sandbox, `dropped-${i}.txt`), 'from outside');
      const [job] = await complete(client, [await client.queue('idlebox').put('basic.Sandboxed', {})]);
      expect(job!.data['before']).toEqual([]);
    }
    await until(() => tree(sandbox).length === 0, 5000, `the sandbox to be emptied: ${tree(sandbox).join(', ')}`);
    await client.close();
  });

  it('gives concurrent jobs separate slot directories, so one job\'s clean-up never deletes another\'s files', async () => {
    const client = qless.client(ctx.url);
    const workdir = workers.tmp();
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'slots', '-w', '1', '-c', '3', '-i', '0.2', '--workdir', workdir]);
    const jids = [
      await client.queue('slots').put('basic.Sandboxed', { ms: 1200 }),
      await client.queue('slots').put('basic.Sandboxed', { ms: 600 }),
      await client.queue('slots').put('basic.Sandboxed', { ms: 100 }),
    ];
    const jobs = await complete(client, jids);
    const child = join(workdir, 'qless-ts-workers', 'sandbox-0');
    const sandboxes = jobs.map((job) => String(job.data['sandbox'])).sort();
    expect(sandboxes).toEqual([join(child, 'slot-0'), join(child, 'slot-1'), join(child, 'slot-2')]);
    for (const job of jobs) {
      expect(job.data['cwd']).toBe(child);
      expect(job.data['before']).toEqual([]);
      // Its own files are still there at the end, though others finished meanwhile.
      expect(job.data['after']).toEqual(['mine.txt', 'nested']);
    }
    await until(() => tree(child).every((entry) => /^slot-\d\/$/.test(entry)), 5000, `the sandbox to be emptied: ${tree(child).join(', ')}`);
    await client.close();
  });

  it('lets one supervisor own a work directory: a second one refuses to start, the first works on', async () => {
    const client = qless.client(ctx.url);
    const workdir = workers.tmp();
    const first = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'owned', '-w', '1', '-i', '0.2', '--workdir', workdir]);
    await first.started(1);
    const claim = join(workdir, 'qless-ts-workers', 'supervisor.pid');
    expect(JSON.parse(readFileSync(claim, 'utf8'))).toMatchObject({ pid: first.pid, host: hostname() });

    const second = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'owned', '-w', '1', '-i', '0.2', '--workdir', workdir]);
    expect(await second.waitExit()).toEqual({ code: 1, signal: null });
    const refusal = second.lines(`another qless-ts-worker (pid ${first.pid}) already runs jobs in ${join(workdir, 'qless-ts-workers')}; two supervisors sharing its sandboxes would delete each other's job files. Give this one its own --workdir, or stop the other one first`);
    expect(refusal).toHaveLength(1);
    expect(second.lines('child started')).toHaveLength(0);

    // The first one still owns it, and still works.
    expect(JSON.parse(readFileSync(claim, 'utf8'))).toMatchObject({ pid: first.pid });
    const [job] = await complete(client, [await client.queue('owned').put('basic.Sandboxed', {})]);
    expect(job!.state).toBe('complete');

    // A clean shutdown gives the directory up.
    first.signal('SIGTERM');
    expect(await first.waitExit()).toEqual({ code: 0, signal: null });
    expect(existsSync(claim)).toBe(false);
    await client.close();
  });

  it('takes over the claim of a supervisor that is gone', async () => {
    const workdir = workers.tmp();
    mkdirSync(join(workdir, 'qless-ts-workers'));
    // A pid that belonged to a process that has exited.
    const gone = spawnSync('true').pid;
    const claim = join(workdir, 'qless-ts-workers', 'supervisor.pid');
    writeFileSync(claim, JSON.stringify({ pid: gone, host: hostname(), started: '1' }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'taken', '-w', '1', '-i', '0.2', '--workdir', workdir, '--verbose']);
    await worker.started(1);
    expect(JSON.parse(readFileSync(claim, 'utf8'))).toMatchObject({ pid: worker.pid });
    expect(worker.lines('took over the work directory from a supervisor that is gone')[0]).toMatchObject({ earlier: `process ${gone} is gone` });
  });
});
