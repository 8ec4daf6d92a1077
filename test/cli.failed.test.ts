/** `failed`, `failed <group>`, `unfail`, `retry-group`, `cancel-group` (confirmation unless --yes). */
import { beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { assertBuilt, bindCli, PTY, runInTerminal, runJson } from './support/cli.js';
import { ManualClock, useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

const T0 = Date.UTC(2024, 0, 1, 12) / 1000;

/** `n` jobs failed into `group` from queue `queue`, jids `<group>-0`… (oldest first). */
async function fail(group: string, n: number, queue = 'underpants'): Promise<string[]> {
  const clock = new ManualClock(T0);
  const client = make({ clock: clock.clock });
  const jids: string[] = [];
  for (let i = 0; i < n; i++) {
    const jid = `${group}-${i}`;
    await client.queue(queue).put('gnomes.GnomesJob', { i }, { jid, priority: i, tags: ['t'] });
    const job = await client.queue(queue).pop();
    clock.advance(1);
    await job!.fail(group, `${group} #${i}\nstack`);
    jids.push(jid);
  }
  return jids;
}

async function states(jids: readonly string[]): Promise<string[]> {
  const jobs = await make().jobs.multiget(jids);
  return jids.map((jid) => jobs.find((j) => j.jid === jid)?.state ?? 'gone');
}

describe('failed', () => {
  it('lists groups with counts, most jobs first', async () => {
    await fail('torn', 3);
    await fail('lost', 1);
    const result = await cli('failed');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('group  jobs\ntorn      3\nlost      1\n');
    expect(await runJson(cli, 'failed')).toEqual({ lost: 1, torn: 3 });
  });

  it('says when nothing failed', async () => {
    expect((await cli('failed')).stdout).toBe('no failed jobs\n');
    expect(await runJson(cli, 'failed')).toEqual({});
  });

  it("lists a group's jobs, newest failure first, a page at a time", async () => {
    await fail('torn', 3);
    const result = await cli('failed', 'torn', '--count', '2');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'torn: 3 failed jobs (showing 1-2)',
        'jid     klass             queue       failed at             worker    message',
        'torn-2  gnomes.GnomesJob  underpants  2024-01-01T12:00:03Z  worker-1  torn #2',
        'torn-1  gnomes.GnomesJob  underpants  2024-01-01T12:00:02Z  worker-1  torn #1',
        '',
      ].join('\n'),
    );
    const page = await runJson<{ group: string; total: number; offset: number; jobs: qless.JobSnapshot[] }>(cli, 'failed', 'torn', '--offset', '2');
    expect(page.total).toBe(3);
    expect(page.offset).toBe(2);
    expect(page.jobs.map((j) => j.jid)).toEqual(['torn-0']);
    expect(page.jobs[0]!.failure?.message).toBe('torn #0\nstack');
    expect((await cli('failed', 'nope')).stdout).toBe('no failed jobs in group nope\n');
  });
});

describe('unfail', () => {
  it('puts every job of a group back into a queue', async () => {
    const jids = await fail('torn', 3);
    const result = await cli('unfail', 'torn', 'retry-queue');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('put 3 failed jobs of group torn into retry-queue\n');
    expect(await states(jids)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(await make().queue('retry-queue').length()).toBe(3);
    expect(await make().jobs.failed()).toEqual({});
  });

  it('moves at most --count, oldest failures first', async () => {
    const jids = await fail('torn', 3);
    expect(await runJson(cli, 'unfail', 'torn', 'underpants', '--count', '2')).toEqual({ group: 'torn', queue: 'underpants', moved: 2 });
    expect(await states(jids)).toEqual(['waiting', 'waiting', 'failed']);
  });
});

describe('retry-group and cancel-group', () => {
  it('refuse without --yes when there is no terminal to ask on (exit 2), changing nothing', async () => {
    const jids = await fail('torn', 2);
    for (const command of ['retry-group', 'cancel-group']) {
      const result = await cli(command, 'torn');
      expect(result.code, command).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: (Retry|Cancel) 2 failed jobs of group "torn": refused, stdin is not a terminal to confirm on; pass --yes\n$/);
    }
    expect(await states(jids)).toEqual(['failed', 'failed']);
  });

  it('retry-group --yes retries every job of the group in its own queue', async () => {
    const torn = await fail('torn', 3);
    const lost = await fail('lost', 2, 'other');
    const result = await cli('retry-group', 'torn', '--yes');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('retried 3 jobs of group torn\n');
    expect(await states(torn)).toEqual(['waiting', 'waiting', 'waiting']);
    const job = (await make().jobs.get('torn-2')) as qless.Job;
    expect(job).toMatchObject({ queue: 'underpants', priority: 2, tags: ['t'], data: { i: 2 } });
    expect(await states(lost)).toEqual(['failed', 'failed']);
    expect(await runJson(cli, 'retry-group', 'lost', '-y')).toEqual({ group: 'lost', retried: 2, skipped: [], errors: [] });
    expect(await make().queue('other').length()).toBe(2);
  });

  it('cancel-group --yes cancels every job of the group, reporting those it could not', async () => {
    const jids = await fail('torn', 3);
    // A job depending on torn-1 keeps torn-1 from being canceled alone.
    await make().queue('underpants').put('k.K', {}, { jid: 'needs-torn-1', depends: ['torn-1'] });
    const result = await cli('cancel-group', 'torn', '--yes');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('canceled 2 jobs of group torn\n');
    expect(result.stderr).toContain('torn-1: job torn-1 cannot be canceled on its own: job needs-torn-1 depends on it.');
    expect(result.stderr).not.toContain('Cancel():');
    expect(result.stderr).toContain('error: 1 of the group\'s jobs could not be canceled');
    expect(await states(jids)).toEqual(['gone', 'failed', 'gone']);
  });

  it('do nothing, successfully, for an empty group', async () => {
    expect((await cli('retry-group', 'nope')).stdout).toBe('no failed jobs in group nope; nothing to retry\n');
    expect(await runJson(cli, 'cancel-group', 'nope')).toEqual({ group: 'nope', canceled: 0, skipped: [], errors: [] });
  });

  it.runIf(PTY)('ask on a terminal: "n" changes nothing (exit 1), "y" goes ahead', async () => {
    const jids = await fail('torn', 2);
    const no = await runInTerminal(['retry-group', 'torn', '--host', ctx.url], 'n\n');
    expect(no.stdout).toContain('Retry 2 failed jobs of group "torn"? [y/N]');
    expect(no.stdout).toContain('error: not confirmed; nothing was changed');
    expect(no.code, no.stderr).toBe(1);
    expect(await states(jids)).toEqual(['failed', 'failed']);
    const yes = await runInTerminal(['cancel-group', 'torn', '--host', ctx.url], 'y\n');
    expect(yes.stdout).toContain('Cancel 2 failed jobs of group "torn"? [y/N]');
    expect(yes.stdout).toContain('canceled 2 jobs of group torn');
    expect(yes.code, yes.stderr).toBe(0);
    expect(await states(jids)).toEqual(['gone', 'gone']);
  });
});
