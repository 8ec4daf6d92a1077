/** One job at a time: get, cancel, retry, move, priority, track/untrack, tag/untag, depends. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { ManualClock, useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

const T0 = Date.UTC(2024, 0, 1, 12) / 1000;

async function job(jid: string): Promise<qless.Job | null> {
  const found = await make().jobs.get(jid);
  return found instanceof qless.Job ? found : null;
}

/** A job put, popped by worker-1 and failed into `torn`. */
async function failedJob(jid = 'torn-1'): Promise<void> {
  const client = make({ clock: new ManualClock(T0).clock });
  await client.queue('underpants').put('gnomes.GnomesJob', { address: '123 Brief St.' }, { jid, priority: 4, tags: ['gnome'], retries: 3 });
  const popped = await client.queue('underpants').pop();
  await popped!.fail('torn', 'Torn underpants\n    at wash (laundry.ts:1)');
}

describe('get', () => {
  it("prints a job's fields, data pretty-printed, and history", async () => {
    await failedJob();
    const result = await cli('get', 'torn-1');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'jid           torn-1',
        'klass         gnomes.GnomesJob',
        'queue         underpants',
        'state         failed',
        'priority      4',
        'tags          gnome',
        'worker        -',
        'expires       -',
        'retries       3 (3 remaining)',
        'depends on    -',
        'dependents    -',
        'tracked       no',
        'spawned from  -',
        'failure       torn at 2024-01-01T12:00:00Z by worker-1',
        '  Torn underpants',
        '      at wash (laundry.ts:1)',
        'data',
        '  {',
        '    "address": "123 Brief St."',
        '  }',
        'history',
        '  2024-01-01T12:00:00Z  put     queue=underpants',
        '  2024-01-01T12:00:00Z  popped  worker=worker-1',
        '  2024-01-01T12:00:00Z  failed  group=torn worker=worker-1',
        '',
      ].join('\n'),
    );
  });

  it('prints the job as JSON with --json', async () => {
    await failedJob();
    const value = await runJson<qless.JobSnapshot>(cli, 'get', 'torn-1');
    expect(value).toEqual((await job('torn-1'))!.toJSON());
    expect(value.failure).toMatchObject({ group: 'torn', worker: 'worker-1' });
  });

  it('shows a recurring job', async () => {
    await make().queue('q').recur('k.R', { a: 1 }, { interval: 3600, jid: 'every-hour', tags: ['t'] });
    const text = await cli('get', 'every-hour');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^state +recur$/m);
    expect(text.stdout).toMatch(/^interval +1h \(3600s\)$/m);
    const value = await runJson<{ state: string; interval: number; next: number; data: object }>(cli, 'get', 'every-hour');
    expect(value).toMatchObject({ state: 'recur', interval: 3600, data: { a: 1 } });
    expect(value.next).toBeGreaterThan(0);
  });

  it('exits 1 for a job that does not exist', async () => {
    const result = await cli('get', 'nope');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: no job nope\n');
  });
});

describe('cancel', () => {
  it('cancels jobs, and exits 1 naming the jids that were missing', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'a' });
    await client.queue('q').put('k.K', {}, { jid: 'b' });
    const result = await cli('cancel', 'a', 'nope');
    expect(result.code, JSON.stringify(result)).toBe(1);
    expect(result.stdout).toBe('canceled a\n');
    expect(result.stderr).toBe('error: no job nope\n');
    expect(await job('a')).toBeNull();
    expect(await runJson(cli, 'cancel', 'b')).toEqual([{ jid: 'b', ok: true }]);
    expect(await job('b')).toBeNull();
  });

  it('refuses to cancel a job others depend on unless they are canceled too', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'eggs' });
    await client.queue('q').put('k.K', {}, { jid: 'omelette', depends: ['eggs'] });
    const refused = await cli('cancel', 'eggs');
    expect(refused.code, refused.stderr).toBe(1);
    // In plain words; the core's own text stays on the library's error objects only.
    expect(refused.stderr).toBe('error: job eggs cannot be canceled on its own: job omelette depends on it. Cancel both together (or the dependent job first)\n');
    expect(await job('eggs')).not.toBeNull();
    expect((await cli('cancel', 'eggs', 'omelette')).code).toBe(0);
    expect(await job('eggs')).toBeNull();
    expect(await job('omelette')).toBeNull();
  });

  it('says a completed job cannot be canceled', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'done' });
    await (await client.queue('q').pop())!.complete();
    const result = await cli('cancel', 'done');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('done is complete');
    expect((await job('done'))?.state).toBe('complete');
  });
});

describe('retry', () => {
  it('puts a failed job back into its queue with its klass, data, priority, tags and retries', async () => {
    await failedJob();
    const result = await cli('retry', 'torn-1');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('retried torn-1 in underpants (waiting)\n');
    expect(await job('torn-1')).toMatchObject({
      state: 'waiting', queue: 'underpants', klass: 'gnomes.GnomesJob', data: { address: '123 Brief St.' },
      priority: 4, tags: ['gnome'], retries: 3, remaining: 3,
    });
    expect(await make().jobs.failed()).toEqual({});
    expect((await make().queue('underpants').pop())?.jid).toBe('torn-1');
  });

  it('can delay the retry', async () => {
    await failedJob();
    expect(await runJson(cli, 'retry', 'torn-1', '--delay', '600')).toEqual([{ jid: 'torn-1', ok: true, queue: 'underpants', state: 'scheduled' }]);
    expect((await job('torn-1'))?.state).toBe('scheduled');
  });

  it('refuses a job that has not failed (exit 1) and leaves it alone', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'busy' });
    await client.queue('q').pop();
    const result = await cli('retry', 'busy');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('job busy is running, not failed');
    expect(await job('busy')).toMatchObject({ state: 'running', worker: 'worker-1' });
  });
});

describe('move and priority', () => {
  it('moves a running job to another queue; its worker is told it lost the lock', async () => {
    const client = make();
    await client.queue('q').put('k.K', { x: 1 }, { jid: 'm', priority: 2, tags: ['t'] });
    const held = (await client.queue('q').pop())!;
    const lost: string[] = [];
    client.events.onWorker('worker-1', (event) => lost.push(`${event.event} ${event.jid}`));
    await client.events.listen();
    const result = await cli('move', 'm', 'other');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('moved m from q to other (waiting)\n');
    expect(await job('m')).toMatchObject({ queue: 'other', state: 'waiting', priority: 2, tags: ['t'], data: { x: 1 } });
    await expect(held.heartbeat()).rejects.toBeInstanceOf(qless.LostLockError);
    await expect.poll(() => lost).toEqual(['lock_lost m']);
  });

  it('moves with new options', async () => {
    await make().queue('q').put('k.K', {}, { jid: 'm' });
    const value = await runJson(cli, 'move', 'm', 'later', '--delay', '60', '--priority', '-1', '--tag', 'a', '--tag', 'b', '--retries', '9');
    expect(value).toEqual({ jid: 'm', from: 'q', queue: 'later', state: 'scheduled' });
    expect(await job('m')).toMatchObject({ queue: 'later', state: 'scheduled', priority: -1, tags: ['a', 'b'], retries: 9 });
  });

  it('sets a priority, negative numbers included', async () => {
    await make().queue('q').put('k.K', {}, { jid: 'p' });
    const result = await cli('priority', 'p', '-7');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('priority of p is -7\n');
    expect((await job('p'))?.priority).toBe(-7);
    expect((await cli('priority', 'p', 'high')).code).toBe(2);
    expect((await cli('priority', 'nope', '1')).code).toBe(1);
  });
});

describe('track, tag, depends', () => {
  it('tracks and untracks', async () => {
    await make().queue('q').put('k.K', {}, { jid: 't' });
    expect((await cli('track', 't')).stdout).toBe('tracking t\n');
    expect((await job('t'))?.tracked).toBe(true);
    expect(await runJson(cli, 'track', 't')).toEqual([{ jid: 't', ok: true, changed: false }]);
    expect((await cli('untrack', 't')).stdout).toBe('untracked t\n');
    expect((await job('t'))?.tracked).toBe(false);
    const missing = await cli('track', 'nope');
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toBe('error: no job nope\n');
  });

  it('tags and untags jobs and recurring jobs', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'j', tags: ['a'] });
    await client.queue('q').recur('k.R', {}, { interval: 60, jid: 'r' });
    expect((await cli('tag', 'j', 'b', 'c')).stdout).toBe('tags of j: a, b, c\n');
    expect(await runJson(cli, 'untag', 'j', 'a')).toEqual({ jid: 'j', tags: ['b', 'c'] });
    expect((await job('j'))?.tags).toEqual(['b', 'c']);
    expect(await client.jobs.tagged('b')).toEqual({ total: 1, jids: ['j'] });
    expect((await cli('tag', 'r', 'x')).stdout).toBe('tags of r: x\n');
    expect(((await client.jobs.get('r')) as qless.RecurringJob).tags).toEqual(['x']);
  });

  it('shows and changes dependencies', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'eggs' });
    await client.queue('q').put('k.K', {}, { jid: 'pan' });
    await client.queue('q').put('k.K', {}, { jid: 'omelette', depends: ['eggs'] });
    expect((await cli('depends', 'omelette')).stdout).toBe('jid         omelette\nstate       depends\ndepends on  eggs\ndependents  -\n');
    expect(await runJson(cli, 'depends', 'omelette', '--on', 'pan')).toEqual({ jid: 'omelette', state: 'depends', dependencies: ['eggs', 'pan'], dependents: [] });
    expect((await job('pan'))?.dependents).toEqual(['omelette']);
    expect(await runJson(cli, 'depends', 'omelette', '--off', 'eggs')).toMatchObject({ state: 'depends', dependencies: ['pan'] });
    expect(await runJson(cli, 'depends', 'omelette', '--all')).toMatchObject({ state: 'waiting', dependencies: [] });
    expect((await job('omelette'))?.state).toBe('waiting');
    const refused = await cli('depends', 'omelette', '--on', 'eggs');
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toBe('error: job omelette is waiting in its queue, not waiting for other jobs, so there are no dependencies to change\n');
  });
});
