/**
 * What a newcomer and an on-call engineer meet first (issue 17): listing a
 * queue's jobs by state and the completed jobs, adding a recurring job,
 * forgetting a queue; names the core does not know refused rather than
 * passed over; one rule for commands taking several jids; watch filters.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { assertBuilt, bindCli, runJson, start } from './support/cli.js';
import { ManualClock, useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

async function job(jid: string): Promise<qless.Job | null> {
  const found = await make().jobs.get(jid);
  return found instanceof qless.Job ? found : null;
}

describe('jobs <queue> --state', () => {
  it("lists a queue's jobs in each state, in the core's order, with paging", async () => {
    const client = make({ workerName: 'gnome-7' });
    const q = client.queue('underpants');
    await q.put('gnomes.Collect', {}, { jid: 'low', priority: -1 });
    await q.put('gnomes.Collect', {}, { jid: 'first', tags: ['red'] });
    await q.put('gnomes.Collect', {}, { jid: 'high', priority: 5 });
    await q.put('gnomes.Collect', {}, { jid: 'later', delay: 600 });
    await q.put('gnomes.Collect', {}, { jid: 'after', depends: ['later'] });
    await q.recur('gnomes.Count', {}, { interval: 3600, jid: 'hourly', offset: 600 });
    await client.queue('other').put('x.Y', {}, { jid: 'elsewhere' });

    const waiting = await cli('jobs', 'underpants');
    expect(waiting.code, waiting.stderr).toBe(0);
    const rows = waiting.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('underpants: 3 waiting (showing 1-3)');
    expect(rows[1]).toMatch(/^jid +klass +priority +tags +put$/);
    expect(rows.slice(2).map((r) => r.split(/ +/)[0])).toEqual(['high', 'first', 'low']);
    expect(rows[3]).toMatch(/^first +gnomes\.Collect +0 +red +\d{4}-/);

    const page = await runJson<{ total: number; jobs: Array<{ jid: string }> }>(cli, 'jobs', 'underpants', '--offset', '1', '--count', '1');
    expect([page.total, page.jobs.map((j) => j.jid)]).toEqual([3, ['first']]);

    await q.pop();
    const running = await cli('jobs', 'underpants', '--state', 'running');
    expect(running.stdout).toMatch(/^underpants: 1 running \(showing 1-1\)\njid +klass +worker +lock +priority\nhigh +gnomes\.Collect +gnome-7 +in [\d.]+s +5\n$/);
    expect((await runJson<{ jobs: Array<{ jid: string }> }>(cli, 'jobs', 'underpants', '--state', 'scheduled')).jobs.map((j) => j.jid)).toEqual(['later']);
    expect((await cli('jobs', 'underpants', '--state', 'depends')).stdout).toMatch(/^after .* later$/m);
    expect((await cli('jobs', 'underpants', '--state', 'recurring')).stdout).toMatch(/^hourly +gnomes\.Count +1h +0 +0$/m);
    expect((await cli('jobs', 'underpants', '--state', 'stalled')).stdout).toBe('underpants: no stalled jobs\n');
  });

  it('refuses an unknown queue (exit 1) and an unknown state (exit 2)', async () => {
    await make().queue('underpants').put('k.K', {});
    const unknown = await cli('jobs', 'underpnts');
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([1, '', 'error: no queue underpnts (known: underpants); nothing to list\n']);
    const state = await cli('jobs', 'underpants', '--state', 'done');
    expect(state.code).toBe(2);
    expect(state.stderr).toContain("argument 'done' is invalid. Allowed choices are waiting, running, scheduled, stalled, depends, recurring.");
  });
});

describe('completed', () => {
  it('lists completed jobs newest first with their queue, completion time and run time', async () => {
    const clock = new ManualClock(Date.UTC(2024, 4, 1, 9) / 1000);
    const client = make({ clock: clock.clock });
    await client.queue('emails').put('mail.Send', {}, { jid: 'slow' });
    const slow = (await client.queue('emails').pop())!;
    clock.advance(95);
    await slow.complete();
    clock.advance(10);
    await client.queue('thumbs').put('media.Thumb', {}, { jid: 'quick' });
    const quick = (await client.queue('thumbs').pop())!;
    clock.advance(2);
    await quick.complete();
    const result = await cli('completed');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'jid    klass        queue   completed             ran for',
        'quick  media.Thumb  thumbs  2024-05-01T09:01:47Z       2s',
        'slow   mail.Send    emails  2024-05-01T09:01:35Z   1m 35s',
        '',
      ].join('\n'),
    );
    const json = await runJson<Array<{ jid: string; completedAt: number; ranFor: number }>>(cli, 'completed', '--count', '1');
    expect(json.map(({ jid, ranFor }) => ({ jid, ranFor }))).toEqual([{ jid: 'quick', ranFor: 2 }]);
  });
});

describe('recurring add and queues forget', () => {
  it('adds a recurring job and prints its jid; --interval is required', async () => {
    const added = await cli('recurring', 'add', 'reports', 'reports.Nightly', '--interval', '86400', '--offset', '3600', '--tag', 'nightly', '--jid', 'nightly', '--data', '{"full":true}');
    expect([added.code, added.stdout]).toEqual([0, 'nightly\n']);
    expect(added.stderr).toMatch(/^every 1d into reports, next \d{4}-/);
    const found = await make().jobs.get('nightly');
    expect(found).toBeInstanceOf(qless.RecurringJob);
    expect(found).toMatchObject({ interval: 86400, tags: ['nightly'], data: { full: true }, queue: 'reports' });
    const missing = await cli('recurring', 'add', 'reports', 'k.K');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--interval <seconds>' not specified");
  });

  it('forgets an idle queue, refuses one holding jobs unless --force, and an unknown one', async () => {
    const client = make();
    await client.queue('old').put('k.K', {}, { jid: 'o' });
    await client.queue('busy').put('k.K', {}, { jid: 'b' });
    await client.jobs.cancel('o');
    const busy = await cli('queues', 'forget', 'busy');
    expect([busy.code, busy.stderr]).toEqual([1, 'error: still holding jobs: busy (1 waiting); nothing was forgotten (--force forgets them anyway)\n']);
    const unknown = await cli('queues', 'forget', 'nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: no queue nosuch');
    const forgot = await cli('queues', 'forget', 'old');
    expect([forgot.code, forgot.stdout]).toEqual([0, 'forgot queue old\n']);
    expect((await runJson<Array<{ name: string }>>(cli, 'queues')).map((q) => q.name)).toEqual(['busy']);
    expect((await cli('queues', 'forget', 'busy', '--force')).code).toBe(0);
    expect((await cli('queues')).stdout).toBe('no queues\n');
    expect((await job('b'))?.state).toBe('waiting');
  });
});

describe('names the core does not know', () => {
  it('queue <name> refuses an unknown queue instead of showing an all-zero one', async () => {
    await make().queue('emails').put('k.K', {});
    const result = await cli('queue', 'emials');
    expect([result.code, result.stdout, result.stderr]).toEqual([1, '', 'error: no queue emials (known: emails); see "qless-ts queues"\n']);
  });

  it('depends --on a missing or completed job is refused and adds nothing', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'blocker' });
    await client.queue('q').put('k.K', {}, { jid: 'x', depends: ['blocker'] });
    await client.queue('done').put('k.K', {}, { jid: 'finished' });
    await (await client.queue('done').pop())!.complete();
    const missing = await cli('depends', 'x', '--on', 'nosuchjid');
    expect([missing.code, missing.stderr]).toEqual([1, 'error: no job nosuchjid to depend on; no dependency was added\n']);
    const complete = await cli('depends', 'x', '--on', 'finished');
    expect(complete.code).toBe(1);
    expect(complete.stderr).toContain('job finished is complete already, so there is nothing to wait for; no dependency was added');
    expect((await job('x'))?.dependencies).toEqual(['blocker']);
  });

  it('put --depends on a missing job is refused and puts nothing; --force puts it anyway', async () => {
    const refused = await cli('put', 'q', 'k.K', '--depends', 'nosuchjid', '--jid', 'j');
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([1, '', 'error: no job nosuchjid to depend on; nothing was put (--force puts it anyway)\n']);
    expect(await job('j')).toBeNull();
    const forced = await cli('put', 'q', 'k.K', '--depends', 'nosuchjid', '--jid', 'j', '--force');
    expect([forced.code, forced.stdout]).toEqual([0, 'j\n']);
    expect((await job('j'))?.state).toBe('waiting');
  });

  it('says so in --help', async () => {
    const help = await cli('--help');
    expect(help.stdout).toContain('Names the core does not know are refused, never passed over');
    expect(help.stdout).toContain('Commands taking several jids act on each one they can');
  });
});

describe('several jids: one rule', () => {
  it('track, cancel and retry act on the jids they can, report each, and exit 1 if any failed', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'bigdata' });
    const track = await cli('track', 'nosuch', 'bigdata');
    expect([track.code, track.stdout, track.stderr]).toEqual([1, 'tracking bigdata\n', 'error: no job nosuch\n']);
    expect((await job('bigdata'))?.tracked).toBe(true);
    const json = await cli('untrack', 'bigdata', 'nosuch', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([{ jid: 'bigdata', ok: true, changed: true }, { jid: 'nosuch', ok: false, error: 'no job nosuch' }]);

    for (const jid of ['torn-1', 'torn-2']) {
      await client.queue('q').put('k.K', {}, { jid });
    }
    await client.queue('q').pop(3);
    for (const jid of ['torn-1', 'torn-2']) await (await client.jobs.get(jid) as qless.Job).fail('torn', 'Torn');
    const retry = await cli('retry', 'torn-1', 'nosuch', 'torn-2', 'bigdata');
    expect(retry.code).toBe(1);
    expect(retry.stdout).toBe('retried torn-1 in q (waiting)\nretried torn-2 in q (waiting)\n');
    expect(retry.stderr).toBe('error: no job nosuch\nerror: job bigdata is running, not failed; only failed jobs are retried (use "qless-ts move" to requeue any job)\n');

    const cancel = await cli('cancel', 'nosuch', 'torn-1');
    expect([cancel.code, cancel.stdout, cancel.stderr]).toEqual([1, 'canceled torn-1\n', 'error: no job nosuch\n']);
    expect(await job('torn-1')).toBeNull();
  });

  it('cancel still cancels a job together with the jobs depending on it, and the rest one by one when the set is refused', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'eggs' });
    await client.queue('q').put('k.K', {}, { jid: 'omelette', depends: ['eggs'] });
    await client.queue('q').put('k.K', {}, { jid: 'toast' });
    const mixed = await cli('cancel', 'eggs', 'toast');
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toBe('canceled toast\n');
    expect(mixed.stderr).toContain('error: job eggs cannot be canceled on its own');
    expect(await job('eggs')).not.toBeNull();
    expect((await cli('cancel', 'eggs', 'omelette')).stdout).toBe('canceled eggs\ncanceled omelette\n');
  });
});

describe('watch filters', () => {
  const running: ChildProcess[] = [];
  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('shows only the events matching --queue, --event, --jid and --tag', async () => {
    const child = start(['watch', '--host', ctx.url, '--queue', 'emails', '--event', 'put', '--event', 'failed', '--tag', 'vip']);
    running.push(child);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    await expect.poll(() => err, { timeout: 10_000 }).toMatch(/watching/);
    const client = make({ workerName: 'w' });
    await client.queue('emails').put('k.K', {}, { jid: 'plain' });
    await client.queue('thumbs').put('k.K', {}, { jid: 'vip-elsewhere', tags: ['vip'] });
    await client.queue('emails').put('k.K', {}, { jid: 'vip-mail', tags: ['vip'] });
    const popped = (await client.queue('emails').pop(2)).find((j) => j.jid === 'vip-mail')!;
    await popped.fail('bounced', 'mailbox full');
    await client.config.set('heartbeat', 61);
    await client.queue('emails').put('k.K', {}, { jid: 'last', tags: ['vip'] });
    await expect.poll(() => out, { timeout: 10_000 }).toContain('jid=last');
    child.kill('SIGINT');
    const shape = out.trimEnd().split('\n').map((line) => line.replace(/^\S+ +/, '').replace(/ +/g, ' '));
    expect(shape).toEqual([
      'ql:log put jid=vip-mail queue=emails',
      'ql:log failed jid=vip-mail group=bounced message="mailbox full" worker=w',
      'ql:log put jid=last queue=emails',
    ]);
    const bad = await cli('watch', '--event', 'finished');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--event finished is not an event the core publishes');
  });
});
