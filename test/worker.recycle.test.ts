/**
 * Recycling children between jobs: after --max-jobs jobs, above
 * --max-memory, and all of them on SIGHUP. The supervisor stays; a fresh
 * child takes each place.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { allComplete, FIXTURES, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();


describe('qless-ts-worker recycling', { timeout: 60_000 }, () => {
  it('--max-jobs replaces a child after that many jobs', async () => {
    const client = qless.client(ctx.url);
    const jids: string[] = [];
    for (let i = 0; i < 7; i++) jids.push(await client.queue('maxjobs').put('timing.WhoAmI', {}));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'maxjobs', '-w', '1', '-i', '0.2', '--max-jobs', '3']);
    const jobs = await allComplete(client, jids);
    const pids = jobs.map((job) => Number(job.data['pid']));
    expect(new Set(pids).size).toBe(3);
    const counts = [...new Set(pids)].map((pid) => pids.filter((p) => p === pid).length);
    expect(counts).toEqual([3, 3, 1]);
    expect(worker.lines('child recycled; starting a fresh one').map((l) => l['reason'])).toEqual(['ran --max-jobs 3 jobs', 'ran --max-jobs 3 jobs']);
    await client.close();
  });

  it('--max-memory replaces a child whose memory grew past the limit, between jobs', async () => {
    const client = qless.client(ctx.url);
    const jids: string[] = [];
    for (let i = 0; i < 6; i++) jids.push(await client.queue('leak').put('timing.Leak', { mb: 40 }));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'leak', '-w', '1', '-i', '0.2', '--max-memory', '160']);
    const jobs = await allComplete(client, jids);
    expect(new Set(jobs.map((job) => job.data['pid'])).size).toBeGreaterThan(1);
    const recycled = worker.lines('child recycling: finishing its jobs, then a fresh child takes over');
    expect(recycled.length).toBeGreaterThan(0);
    expect(String(recycled[0]!['reason'])).toMatch(/^memory \d+ MB is above --max-memory 160 MB$/);
    await client.close();
  });

  it('SIGHUP replaces every child, keeping the supervisor', async () => {
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'hup', '-w', '2', '-i', '0.2']);
    const first = await worker.started(2);
    worker.signal('SIGHUP');
    const all = await worker.started(4);
    expect(all.slice(2).some((pid) => first.includes(pid))).toBe(false);
    expect(worker.lines('child recycled; starting a fresh one')).toHaveLength(2);
    expect(worker.lines('supervisor started')).toHaveLength(1);
    // Still working.
    const client = qless.client(ctx.url);
    const jid = await client.queue('hup').put('timing.WhoAmI', {});
    const [job] = await allComplete(client, [jid]);
    expect(all.slice(2)).toContain(job!.data['pid']);
    await client.close();
  });
});
