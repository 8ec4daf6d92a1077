/** `queues`, `queue <name>` (counts, paused, a day's stats and histograms), `pause`, `unpause`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { histogram, bucketLabel, duration } from '../src/cli/qless/format.js';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { ManualClock, useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

const DAY = Date.UTC(2024, 0, 1, 12) / 1000;

describe('queues', () => {
  it('lists every queue with its counts, aligned, and as JSON', async () => {
    const client = make();
    await client.queue('underpants').put('gnomes.GnomesJob', {});
    await client.queue('underpants').put('gnomes.GnomesJob', {}, { delay: 60 });
    await client.queue('profit').put('gnomes.GnomesJob', {});
    await client.queue('profit').pause();
    const text = await cli('queues');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(
      [
        'queue       waiting  running  stalled  scheduled  depends  recurring',
        'underpants        1        0        0          1        0          0',
        'profit            1        0        0          0        0          0  paused',
        '',
      ].join('\n'),
    );
    expect(await runJson(cli, 'queues')).toEqual([
      { name: 'underpants', waiting: 1, running: 0, stalled: 0, scheduled: 1, depends: 0, recurring: 0, paused: false },
      { name: 'profit', waiting: 1, running: 0, stalled: 0, scheduled: 0, depends: 0, recurring: 0, paused: true },
    ]);
  });

  it('says so when there are none', async () => {
    expect((await cli('queues')).stdout).toBe('no queues\n');
    expect(await runJson(cli, 'queues')).toEqual([]);
  });
});

describe('queue <name>', () => {
  async function seed(): Promise<void> {
    const clock = new ManualClock(DAY);
    const client = make({ clock: clock.clock });
    const queue = client.queue('underpants');
    for (let i = 0; i < 4; i++) await queue.put('gnomes.GnomesJob', {});
    await queue.put('gnomes.GnomesJob', {}, { jid: 'later', delay: 1e9 }); // still scheduled at the real time the CLI reads
    clock.advance(2);
    const [a, b, c] = await queue.pop(3);
    clock.advance(7);
    await a!.complete();
    clock.advance(120);
    await b!.complete();
    await c!.fail('torn', 'Torn underpants');
  }

  it("shows counts, paused, and the day's stats with text histograms", async () => {
    await seed();
    await make().queue('underpants').pause();
    const result = await cli('queue', 'underpants', '--date', '2024-01-01');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const bar = '█'.repeat(40);
    expect(result.stdout).toBe(
      [
        'underpants (paused)',
        '',
        'waiting  running  stalled  scheduled  depends  recurring',
        '      1        0        0          1        0          0',
        '',
        '2024-01-01 (UTC): 1 failures, 1 still failed, 0 retries',
        'wait: 3 jobs, mean 2s, std dev 0s',
        `  2s │${bar} 3`,
        'run: 2 jobs, mean 1m 7s, std dev 1m 25s',
        `  7s │${bar} 1`,
        '     ⋮',
        `  2m │${bar} 1`,
        '',
      ].join('\n'),
    );
  });

  it('gives the same as JSON, with the 148-bucket histograms', async () => {
    await seed();
    const value = await runJson<{
      name: string;
      paused: boolean;
      counts: Record<string, number>;
      date: string;
      stats: { failures: number; failed: number; retries: number; wait: { count: number; histogram: number[] }; run: { count: number; mean: number; histogram: number[] } };
    }>(cli, 'queue', 'underpants', '--date', '2024-01-01');
    expect(value.name).toBe('underpants');
    expect(value.paused).toBe(false);
    expect(value.counts).toEqual({ waiting: 1, running: 0, stalled: 0, scheduled: 1, depends: 0, recurring: 0 });
    expect(value.date).toBe('2024-01-01');
    expect(value.stats.failures).toBe(1);
    expect(value.stats.wait.count).toBe(3);
    expect(value.stats.wait.histogram).toHaveLength(148);
    expect(value.stats.wait.histogram[2]).toBe(3);
    expect(value.stats.run.histogram[7]).toBe(1);
    expect(value.stats.run.histogram[61]).toBe(1); // 127 s → the 2-minute bucket
  });

  it('shows an empty day without histograms', async () => {
    await seed();
    const result = await cli('queue', 'underpants', '--date', '2023-12-31');
    expect(result.stdout).toContain('2023-12-31 (UTC): 0 failures, 0 still failed, 0 retries\nwait: no jobs\nrun: no jobs\n');
  });
});

describe('pause and unpause', () => {
  it('pause queues so pop hands out nothing, and unpause them', async () => {
    const client = make();
    await client.queue('a').put('k.K', {});
    // b has never had a job: refused (likely a typo), and a is left alone too.
    const typo = await cli('pause', 'a', 'b');
    expect([typo.code, typo.stdout, typo.stderr]).toEqual([1, '', 'error: no queue b (known: a); nothing was paused\n']);
    expect((await client.queue('a').counts()).paused).toBe(false);
    const paused = await cli('pause', 'a', 'b', '--force');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toBe('paused a\npaused b\n');
    expect((await client.queue('a').counts()).paused).toBe(true);
    expect((await client.queue('b').counts()).paused).toBe(true);
    expect(await client.queue('a').pop()).toBeNull();
    expect(await runJson(cli, 'unpause', 'a')).toEqual({ unpaused: ['a'] });
    expect((await client.queue('a').counts()).paused).toBe(false);
    expect(await client.queue('a').pop()).not.toBeNull();
  });
});

describe('histogram rendering', () => {
  it('labels the seconds, minutes, hours and days buckets', () => {
    expect([0, 59, 60, 118, 119, 141, 142, 147].map(bucketLabel)).toEqual(['0s', '59s', '1m', '59m', '1h', '23h', '1d', '6d']);
  });

  it('scales bars to the fullest bucket and collapses empty runs', () => {
    const buckets = new Array<number>(148).fill(0);
    buckets[0] = 4;
    buckets[1] = 2;
    buckets[119] = 1;
    expect(histogram(buckets, 8)).toEqual(['0s │████████ 4', '1s │████     2', '   ⋮', '1h │██       1']);
    expect(histogram(new Array<number>(148).fill(0))).toEqual([]);
  });

  it('formats durations for people', () => {
    expect([0.25, 2.5, 59.94, 75, 3600, 3725, 90000].map(duration)).toEqual(['0.25s', '2.5s', '59.9s', '1m 15s', '1h', '1h 2m', '1d 1h']);
  });
});
