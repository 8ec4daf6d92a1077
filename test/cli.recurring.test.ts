/**
 * `qless-ts recurring add` (interval or cron), and the schedule in words
 * with the next three runs in the job's zone, in the list and in `get`; a
 * job's progress in `get`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

const BERLIN_TIME = /\d{4}-\d\d-\d\dT02:30:00\+0[12]:00/;

describe('recurring add', () => {
  it('adds a cron job in a zone, and lists it with its schedule in words and next three runs there', async () => {
    const added = await cli('recurring', 'add', 'reports', 'reports.Nightly', '--cron', '30 2 * * *', '--timezone', 'Europe/Berlin', '--jid', 'nightly', '--data', '{"kind":"daily"}', '--tag', 'nightly', '--priority', '3');
    expect([added.code, added.stdout]).toEqual([0, 'nightly\n']);
    expect(added.stderr).toMatch(/^at 02:30 every day \(Europe\/Berlin\) into reports, next \d{4}-\d\d-\d\dT02:30:00\+0[12]:00, /);
    const template = (await make().jobs.get('nightly')) as qless.RecurringJob;
    expect([template.cron, template.timezone, template.data, template.tags]).toEqual(['30 2 * * *', 'Europe/Berlin', { kind: 'daily' }, ['nightly']]);

    const list = await cli('recurring');
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^nightly +reports\.Nightly +reports +at 02:30 every day \(Europe\/Berlin\) +3 +0 +/);
    const runs = lines[1]!.split(/ {2,}/).at(-1)!.split(', ');
    expect(runs).toHaveLength(3);
    for (const run of runs) expect(run).toMatch(BERLIN_TIME);

    const [json] = await runJson<Array<{ jid: string; schedule: string; upcoming: number[]; cron: { expression: string; timezone: string } }>>(cli, 'recurring', 'list');
    expect(json).toMatchObject({ jid: 'nightly', schedule: 'at 02:30 every day (Europe/Berlin)', cron: { expression: '30 2 * * *', timezone: 'Europe/Berlin' } });
    expect(json!.upcoming).toHaveLength(3);
    expect(json!.upcoming.map((t) => qless.formatInZone(t, 'Europe/Berlin'))).toEqual(runs);

    const shown = await cli('get', 'nightly');
    expect(shown.stdout).toMatch(/^schedule +at 02:30 every day \(Europe\/Berlin\)$/m);
    expect(shown.stdout).toMatch(/^cron +30 2 \* \* \*$/m);
    expect(shown.stdout).toMatch(/^timezone +Europe\/Berlin$/m);
    expect(shown.stdout).toMatch(new RegExp(`^next runs +${runs.join(', ').replace(/\+/g, '\\+')}$`, 'm'));
  });

  it('adds an interval job', async () => {
    const added = await runJson<{ jid: string; interval: number; schedule: string; upcoming: number[] }>(cli, 'recurring', 'add', 'q', 'tasks.Sweep', '--interval', '300', '--offset', '60');
    expect(added).toMatchObject({ interval: 300, schedule: 'every 5 minutes' });
    expect(added.upcoming[1]! - added.upcoming[0]!).toBe(300);
  });

  it('changes a cron job with update --cron/--timezone, and refuses --interval for it', async () => {
    await cli('recurring', 'add', 'q', 'k.K', '--cron', '@daily', '--jid', 'd');
    const updated = await cli('recurring', 'update', 'd', '--cron', '0 9 * * mon-fri', '--timezone', 'Asia/Tokyo');
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/^updated d: cron, timezone\nat 09:00 on Monday to Friday \(Asia\/Tokyo\);/);
    const refused = await cli('recurring', 'update', 'd', '--interval', '60');
    expect([refused.code, refused.stderr]).toEqual([1, 'error: d runs on a cron schedule (0 9 * * mon-fri); give --cron, not --interval\n']);
  });

  it('refuses bad schedules with exit 2 before touching Redis', async () => {
    const cases: Array<[string[], string]> = [
      [['--cron', '61 * * * *'], 'error: Invalid cron expression "61 * * * *": '],
      [['--cron', '@hourly', '--timezone', 'Mars/Olympus'], 'error: Unknown time zone "Mars/Olympus"'],
      [[], 'error: a schedule is required: give --interval <seconds> or --cron <expression>'],
      [['--cron', '@hourly', '--interval', '60'], 'error: give either --cron or --interval, not both'],
      [['--interval', '60', '--timezone', 'UTC'], 'error: --timezone goes with --cron'],
      [['--cron', '@hourly', '--offset', '5'], 'error: --offset goes with --interval'],
      [['--interval', '0'], "error: option '--interval <seconds>' argument '0' is invalid."],
    ];
    for (const [flags, message] of cases) {
      const result = await cli('recurring', 'add', 'q', 'k.K', ...flags);
      expect([result.code, result.stderr.slice(0, message.length)], flags.join(' ')).toEqual([2, message]);
      expect(result.stdout).toBe('');
    }
    expect(await ctx.redis.dbsize()).toBe(0);
  });
});

describe('get shows progress', () => {
  it('for a running job that reported it, in words and as JSON', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'p' });
    const job = (await client.queue('q').pop())!;
    expect((await cli('get', 'p')).stdout).not.toMatch(/^progress/m);
    await job.progress({ done: 3, of: 12, step: 'thumbnails' });
    expect((await cli('get', 'p')).stdout).toMatch(/^progress +done 3, of 12, step thumbnails \(25%\)$/m);
    await job.progress(40);
    expect((await cli('get', 'p')).stdout).toMatch(/^progress +40%$/m);
    expect(await runJson<{ progress: number }>(cli, 'get', 'p')).toMatchObject({ progress: 40 });
  });
});
