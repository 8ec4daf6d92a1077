/** `workers`, `worker`, `tags`, `tagged`, `tracked`, `recurring` (list/update/cancel), `config`. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

describe('workers', () => {
  it('lists workers and the jobs one holds', async () => {
    const gnome = make({ workerName: 'gnome-1' });
    await gnome.queue('q').put('gnomes.GnomesJob', {}, { jid: 'held' });
    await gnome.queue('q').pop();
    await make({ workerName: 'idle-1' }).queue('empty').pop();
    const list = await cli('workers');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^worker   jobs  stalled  last seen\nidle-1      0        0  (just now|\d+(\.\d+)?s ago)\ngnome-1     1        0  (just now|\d+(\.\d+)?s ago)\n$/);
    expect(await runJson(cli, 'workers')).toEqual([
      { name: 'idle-1', jobs: 0, stalled: 0, lastSeen: expect.any(Number) },
      { name: 'gnome-1', jobs: 1, stalled: 0, lastSeen: expect.any(Number) },
    ]);
    const one = await cli('worker', 'gnome-1');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^gnome-1: 1 job, 0 stalled, last seen (just now|\d+(\.\d+)?s ago)\n\njobs\n {2}jid +klass +queue +state +lock\n {2}held +gnomes\.GnomesJob +q +running +in \d+(\.\d+)?s\n$/);
    expect(await runJson(cli, 'worker', 'gnome-1')).toEqual({ name: 'gnome-1', jobs: ['held'], stalled: [], lastSeen: expect.any(Number) });
  });

  it('says so for no workers, and exits 1 for an unknown one', async () => {
    expect((await cli('workers')).stdout).toBe('no workers\n');
    const unknown = await cli('worker', 'nobody');
    expect(unknown.code, unknown.stderr).toBe(1);
    expect(unknown.stderr).toBe('error: no worker nobody\n');
  });
});

describe('tags, tagged, tracked', () => {
  it('lists the tags on two or more jobs, and the jobs of a tag', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'a', tags: ['blue', 'red'] });
    await client.queue('q').put('k.K', {}, { jid: 'b', tags: ['blue'] });
    expect((await cli('tags')).stdout).toBe('blue\n');
    expect(await runJson(cli, 'tags')).toEqual(['blue']);
    const tagged = await cli('tagged', 'blue');
    expect(tagged.stdout).toBe('blue: 2 jobs\njid  klass  queue  state    tags\na    k.K    q      waiting  blue, red\nb    k.K    q      waiting  blue\n');
    expect(await runJson(cli, 'tagged', 'blue', '--offset', '1', '--count', '5')).toEqual({ tag: 'blue', total: 2, offset: 1, jids: ['b'] });
    expect((await cli('tagged', 'green')).stdout).toBe('no jobs tagged green\n');
    await client.jobs.cancel('b');
    expect((await cli('tags')).stdout).toBe('no tag is on two or more jobs\n');
  });

  it('lists tracked jobs and the expired ones', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'kept' });
    await client.queue('q').put('k.K', {}, { jid: 'gone' });
    await client.track('kept');
    await client.track('gone');
    await client.jobs.cancel('gone');
    const text = await cli('tracked');
    expect(text.stdout).toBe('jid   klass  queue  state    tags\nkept  k.K    q      waiting  -\nexpired: gone\n');
    const value = await runJson<{ jobs: qless.JobSnapshot[]; expired: string[] }>(cli, 'tracked');
    expect(value.jobs.map((j) => [j.jid, j.tracked])).toEqual([['kept', true]]);
    expect(value.expired).toEqual(['gone']);
    await client.redis.del('ql:tracked');
    expect((await cli('tracked')).stdout).toBe('no tracked jobs\n');
  });
});

describe('recurring', () => {
  it('lists every recurring job, next occurrence first', async () => {
    const client = make();
    await client.queue('hourly').recur('k.Hourly', { a: 1 }, { interval: 3600, offset: 100, jid: 'every-hour', priority: 2 });
    await client.queue('minutely').recur('k.Minutely', {}, { interval: 60, offset: 10, jid: 'every-minute' });
    const text = await cli('recurring');
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^jid +klass +queue +every +priority +spawned +next$/);
    expect(lines[1]).toMatch(/^every-minute +k\.Minutely +minutely +1m +0 +0 +\d{4}-\d\d-\d\dT[\d:]+Z$/);
    expect(lines[2]).toMatch(/^every-hour +k\.Hourly +hourly +1h +2 +0 +/);
    const value = await runJson<Array<{ jid: string; interval: number; next: number; data: object }>>(cli, 'recurring', 'list');
    expect(value.map((r) => [r.jid, r.interval])).toEqual([['every-minute', 60], ['every-hour', 3600]]);
    expect(value[1]!.data).toEqual({ a: 1 });
    expect(value[0]!.next).toBeLessThan(value[1]!.next);
  });

  it('updates and cancels a recurring job', async () => {
    const client = make();
    await client.queue('q').recur('k.R', {}, { interval: 60, jid: 'r' });
    const updated = await cli('recurring', 'update', 'r', '--interval', '120', '--priority', '-3', '--retries', '1', '--data', '{"n":2}', '--klass', 'k.Other', '--queue', 'q2', '--backlog', '4');
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/^updated r: interval, priority, retries, data, klass, queue, backlog\n/);
    const r = (await client.jobs.get('r')) as qless.RecurringJob;
    expect(r.toJSON()).toMatchObject({ interval: 120, priority: -3, retries: 1, data: { n: 2 }, klass: 'k.Other', queue: 'q2', backlog: 4 });
    expect((await cli('recurring', 'update', 'r')).code).toBe(2);
    expect((await cli('recurring', 'update', 'r', '--interval', '0')).code).toBe(2);
    expect(await runJson(cli, 'recurring', 'cancel', 'r')).toEqual({ canceled: 'r' });
    expect(await client.jobs.get('r')).toBeNull();
    const again = await cli('recurring', 'cancel', 'r');
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toBe('error: no recurring job r\n');
  });

  it('refuses to treat a job as a recurring job', async () => {
    await make().queue('q').put('k.K', {}, { jid: 'plain' });
    const result = await cli('recurring', 'update', 'plain', '--priority', '1');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe('error: plain is a job, not a recurring job\n');
  });

  it('says so when there are none', async () => {
    expect((await cli('recurring')).stdout).toBe('no recurring jobs\n');
  });
});

describe('config', () => {
  it('lists, gets, sets and unsets options', async () => {
    const client = make();
    const list = await cli('config');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^option +value\n/);
    expect(list.stdout).toMatch(/^heartbeat +60$/m);
    expect((await runJson<Record<string, unknown>>(cli, 'config', 'list'))['heartbeat']).toBe(60);

    expect((await cli('config', 'set', 'heartbeat', '120')).stdout).toBe('heartbeat = 120\n');
    expect(await client.config.get('heartbeat')).toBe(120);
    expect((await cli('config', 'get', 'heartbeat')).stdout).toBe('120\n');
    expect(await runJson(cli, 'config', 'get', 'heartbeat')).toBe(120);
    expect(await runJson(cli, 'config', 'set', 'underpants-max-concurrency', '4')).toEqual({ option: 'underpants-max-concurrency', value: 4 });
    expect(await runJson(cli, 'config', 'set', 'application', 'gnomes')).toEqual({ option: 'application', value: 'gnomes' });
    expect((await runJson<Record<string, unknown>>(cli, 'config'))['underpants-max-concurrency']).toBe(4);

    expect((await cli('config', 'unset', 'heartbeat')).stdout).toBe('heartbeat unset (default 60)\n');
    expect(await client.config.get('heartbeat')).toBe(60);
    expect((await cli('config', 'unset', 'underpants-max-concurrency')).stdout).toBe('underpants-max-concurrency unset (default 0)\n');
    // Unset known options show the default the core uses (issue 17), on stdout, with a note on stderr.
    const fallback = await cli('config', 'get', 'underpants-max-concurrency');
    expect([fallback.code, fallback.stdout, fallback.stderr]).toEqual([0, '0\n', 'underpants-max-concurrency is not set: the core uses 0 (default)\n']);
    const age = await cli('config', 'get', 'max-worker-age');
    expect([age.code, age.stdout, age.stderr]).toEqual([0, '86400\n', 'max-worker-age is not set: the core uses 86400 (default)\n']);
    expect(await runJson(cli, 'config', 'get', 'max-job-history')).toBe(100);
    await client.config.set('heartbeat', 90);
    const perQueue = await cli('config', 'get', 'emails-heartbeat');
    expect([perQueue.code, perQueue.stdout, perQueue.stderr]).toEqual([0, '90\n', 'emails-heartbeat is not set: the core uses 90 (default: the heartbeat option)\n']);
    expect((await runJson<Record<string, unknown>>(cli, 'config'))['max-worker-age']).toBe(86400);
    const missing = await cli('config', 'get', 'nosuch-option');
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('error: option nosuch-option is not set, and the core does not read it\n');
  });
});
