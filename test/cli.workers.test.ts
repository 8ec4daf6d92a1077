/**
 * `qless-ts workers`: when each worker was last seen, and `workers forget`
 * by name or by `--stale <seconds>` (issue 12, item 10). The workers are
 * real clients that popped at chosen times (a settable clock), so "last
 * seen" is the core's own `ql:workers` score.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { ManualClock, useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

/** Workers last seen 2 hours, 10 minutes and a moment ago; the fresh one holds a job. */
async function workers(): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  for (const [name, ago] of [['old-box-1', 7200], ['mid-box-2', 600]] as const) {
    const clock = new ManualClock(now - ago);
    await make({ workerName: name, clock: clock.clock }).queue('empty').pop();
  }
  const fresh = make({ workerName: 'new-box-3' });
  await fresh.queue('q').put('k.K', {}, { jid: 'held' });
  await fresh.queue('q').pop();
  return now;
}

describe('qless-ts workers', () => {
  it('shows when each worker was last seen', async () => {
    const now = await workers();
    const list = await cli('workers');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^worker     jobs  stalled  last seen\nnew-box-3     1        0  (just now|\d(\.\d+)?s ago)\nmid-box-2     0        0  10m( \d+s)? ago\nold-box-1     0        0  2h ago\n$/);
    const json = await runJson<Array<{ name: string; lastSeen: number }>>(cli, 'workers', 'list');
    expect(json.map((w) => [w.name, now - Math.round(w.lastSeen)])).toEqual([
      ['new-box-3', expect.any(Number)],
      ['mid-box-2', 600],
      ['old-box-1', 7200],
    ]);
  });

  it('forgets workers by name, refusing unknown names without forgetting any', async () => {
    await workers();
    const unknown = await cli('workers', 'forget', 'old-box-1', 'nobody', 'ghost');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: no workers named nobody, ghost; nothing was forgotten (see "qless-ts workers")\n');
    expect(await ctx.redis.zscore('ql:workers', 'old-box-1')).not.toBeNull();

    const forgot = await cli('workers', 'forget', 'old-box-1', 'new-box-3');
    expect(forgot.code, forgot.stderr).toBe(0);
    // The binary takes a moment to start on a busy machine: the seconds vary.
    expect(forgot.stdout).toMatch(/^forgot old-box-1 \(last seen 2h ago\)\nforgot new-box-3 \(last seen (just now|\d+(\.\d+)?s ago); it still holds 1 job and reappears if it heartbeats\)\n$/);
    expect(await ctx.redis.zrange('ql:workers', 0, -1)).toEqual(['mid-box-2']);
    // Its job is untouched.
    expect((await make().jobs.get('held'))?.state).toBe('running');
  });

  it('forgets the workers silent for longer than --stale', async () => {
    await workers();
    expect(await runJson(cli, 'workers', 'forget', '--stale', '3600')).toEqual({ forgotten: ['old-box-1'] });
    const none = await cli('workers', 'forget', '--stale', '3600');
    expect(none.stdout).toBe('no worker has been silent for more than 1h\n');
    const more = await cli('workers', 'forget', '--stale', '300');
    expect(more.stdout).toMatch(/^forgot mid-box-2 \(last seen 10m( \d+s)? ago\)\n$/);
    expect(await ctx.redis.zrange('ql:workers', 0, -1)).toEqual(['new-box-3']);
  });

  it('refuses a forget without names or --stale, or with both (exit 2)', async () => {
    await workers();
    const neither = await cli('workers', 'forget');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toBe('error: name the workers to forget, or give --stale <seconds>\n');
    const both = await cli('workers', 'forget', 'old-box-1', '--stale', '60');
    expect(both.code).toBe(2);
    const bad = await cli('workers', 'forget', '--stale', 'soon');
    expect(bad.code).toBe(2);
    expect(await ctx.redis.zcard('ql:workers')).toBe(3);
  });
});
