/** `throttles` (list), `throttles set|delete`, `rate-limit <queue>`, and `put --throttle`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

describe('throttles', () => {
  it('sets a limit, lists it with its holders and parked jobs, and deletes it', async () => {
    const set = await cli('throttles', 'set', 'api', '1');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('api: at most 1 at once\n');
    const put = await cli('put', 'billing', 'Charge', '--throttle', 'api', '--jid', 'first');
    expect(put.code, put.stderr).toBe(0);
    const client = make();
    await client.queue('billing').pop();
    await cli('put', 'billing', 'Charge', '--throttle', 'api', '--jid', 'second');
    const list = await cli('throttles');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe(
      [
        'throttle      maximum  expires in  running  waiting  holders  parked',
        'api                 1           -        1        1  first    second',
        'ql:q:billing     none           -        1        0  first    -',
        '',
      ].join('\n'),
    );
    expect(await runJson(cli, 'throttles')).toEqual([
      { id: 'api', maximum: 1, ttl: -1, locks: ['first'], pending: ['second'] },
      { id: 'ql:q:billing', maximum: 0, ttl: -2, locks: ['first'], pending: [] },
    ]);
    const shown = await cli('get', 'second');
    expect(shown.stdout).toMatch(/^state +throttled$/m);
    expect(shown.stdout).toMatch(/^throttles +api, ql:q:billing$/m);
    const deleted = await cli('throttles', 'delete', 'api');
    expect(deleted.stdout).toBe('api: no limit\n');
    expect((await client.jobs.get('second'))!.state).toBe('waiting');
  });

  it('refuses a bad maximum with a usage error, before connecting', async () => {
    const result = await cli('throttles', 'set', 'api', '-1');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("argument 'maximum'");
    expect(await ctx.redis.exists('ql:th:api')).toBe(0);
  });
});

describe('rate-limit', () => {
  it('shows, sets and removes a queue\'s rate limit', async () => {
    expect((await cli('rate-limit', 'q')).stdout).toBe('q: no rate limit\n');
    expect((await cli('rate-limit', 'q', '5/1')).stdout).toBe('q: at most 5 jobs start per 1s\n');
    expect(await runJson(cli, 'rate-limit', 'q')).toEqual({ queue: 'q', rateLimit: { limit: 5, per: 1 } });
    expect((await cli('rate-limit', 'q', 'off')).stdout).toBe('q: no rate limit\n');
  });

  it('refuses anything but <limit>/<seconds> or off with exit 2', async () => {
    for (const bad of ['5', '0/1', '5/0', 'five/1']) {
      const result = await cli('rate-limit', 'q', bad);
      expect(result.code, bad).toBe(2);
    }
    expect(await ctx.redis.hlen('ql:config')).toBe(0);
  });
});
