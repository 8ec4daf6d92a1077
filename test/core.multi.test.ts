import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { dataKeys, flushTestDb, snapshot } from './support/raw.js';
import { scriptMessageOf } from '../src/errors.js';
import type { CoreReply } from '../src/gateway.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

type Call = [now: number, command: string, ...args: Array<string | number>];

/** What a reply looks like for comparison: errors by their script message. */
function normalize(reply: unknown): unknown {
  if (reply instanceof Error) return { error: scriptMessageOf(reply.message) };
  return reply;
}

/** Run the calls one by one, as separate script calls. */
async function oneByOne(calls: Call[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [now, command, ...args] of calls) {
    out.push(await core.call(now, command, ...args).then(normalize, (error: Error) => ({ error: scriptMessageOf(error.message.replace(/^[^:]+: /, '')) })));
  }
  return out;
}

/** Run the calls as one `multi`. */
async function together(calls: Call[]): Promise<unknown[]> {
  const argv: Array<string | number> = [];
  for (const [now, command, ...args] of calls) argv.push(command, now, args.length, ...args);
  const reply = (await core.gateway.callAt(calls[0]![0], 'multi', ...argv)) as CoreReply[];
  return (reply as unknown[]).map(normalize);
}

const put = (now: number, jid: string, ...rest: Array<string | number>): Call => [now, 'put', 'w', 'q', jid, 'k.K', '{"a":1}', 0, ...rest];

/** Each scenario runs on an empty database both ways; replies and the final database must be the same. */
async function sameBothWays(calls: Call[]): Promise<unknown[]> {
  await flushTestDb(ctx.redis);
  const single = await oneByOne(calls);
  const singleKeys = await snapshot(ctx.redis);
  await flushTestDb(ctx.redis);
  const batched = await together(calls);
  expect(batched).toEqual(single);
  expect(await snapshot(ctx.redis)).toEqual(singleKeys);
  return batched;
}

describe('multi: a pipeline in one call', () => {
  it('gives each command the reply and effects it has on its own', async () => {
    const replies = await sameBothWays([
      put(10, 'a', 'tags', '["x"]'),
      put(11, 'b', 'priority', 5),
      [12, 'pop', 'q', 'w', 2],
      [13, 'log', 'a', 'hello', '{"n":1.5}'],
      [14, 'complete', 'b', 'w', 'q', '{"done":true}'],
      [15, 'heartbeat', 'a', 'w'],
      [16, 'get', 'a'],
      [17, 'jobs', 'complete'],
      [18, 'length', 'q'],
      [19, 'stats', 'q', 19],
    ]);
    expect(replies[0]).toBe('a');
    expect(replies[3]).toBeNull();
    expect(replies[4]).toBe('complete');
    expect(replies[5]).toBe(75);
    expect(replies[7]).toEqual(['b']);
  });

  it('stops only the failing command, with its own error', async () => {
    const replies = await sameBothWays([
      put(10, 'a'),
      [11, 'complete', 'a', 'w', 'q', '{}'],
      [12, 'nope'],
      [13, 'put', 'w', 'q', 'c', 'k.K', 'not json', 0],
      [14, 'pop', 'q', 'w', 1],
      [15, 'complete', 'a', 'someone-else', 'q', '{}'],
      [16, 'complete', 'a', 'w', 'q', '{}'],
    ]);
    expect(replies[1]).toEqual({ error: 'Complete(): Job a is not currently running: waiting' });
    expect(replies[2]).toEqual({ error: 'Unknown command nope' });
    expect(replies[5]).toEqual({ error: 'Complete(): Job a has been handed out to another worker: w' });
    expect(replies[6]).toBe('complete');
  });

  it('writes the wait and run statistics of the whole batch as separate calls would', async () => {
    const calls: Call[] = [];
    for (let i = 0; i < 6; i++) calls.push(put(100 + i * 7.25, `j${i}`));
    calls.push([150, 'pop', 'q', 'w', 3]);
    for (let i = 0; i < 3; i++) calls.push([151 + i * 13.5, 'complete', `j${i}`, 'w', 'q', '{}']);
    calls.push([200.5, 'pop', 'q', 'w', 3]);
    for (let i = 3; i < 6; i++) calls.push([201 + i * 2000, 'complete', `j${i}`, 'w', 'q', '{}']);
    calls.push([90000, 'stats', 'q', 100]);
    const replies = await sameBothWays(calls);
    const stats = JSON.parse(replies[replies.length - 1] as string) as { wait: { count: number }; run: { count: number } };
    expect(stats.wait.count).toBe(6);
    expect(stats.run.count).toBe(6);
  });

  it('applies completed-job retention after each complete, as separate calls would', async () => {
    for (const [option, value] of [['jobs-history-count', 2], ['jobs-history-count', 0], ['jobs-history', 5], ['jobs-history', 0], ['jobs-history', -1]] as const) {
      const calls: Call[] = [[1, 'config.set', option, value]];
      for (let i = 0; i < 6; i++) calls.push(put(2 + i, `j${i}`, 'tags', '["t"]'));
      calls.push([10, 'pop', 'q', 'w', 6]);
      for (let i = 0; i < 3; i++) calls.push([11, 'complete', `j${i}`, 'w', 'q', '{}']);
      calls.push([11, 'put', 'w', 'q', 'j0', 'k.K', '{}', 0]);
      for (let i = 3; i < 6; i++) calls.push([12 + i * 2, 'complete', `j${i}`, 'w', 'q', '{}']);
      calls.push([30, 'jobs', 'complete'], [30, 'tag', 'get', 't']);
      await sameBothWays(calls);
    }
  });

  it('keeps each command its own now and checks it as the dispatcher does', async () => {
    const reply = (await core.gateway.callAt(1, 'multi', 'put', 5, 6, 'w', 'q', 'a', 'k.K', '{}', 0, 'get', 'abc', 1, 'a', 'multi', 6, 0)) as unknown[];
    expect(reply[0]).toBe('a');
    expect(scriptMessageOf((reply[1] as Error).message)).toBe('Arg "now" missing or not a number: nil');
    expect(scriptMessageOf((reply[2] as Error).message)).toBe('Unknown command multi');
    const job = JSON.parse((await core.call(9, 'get', 'a')) as string) as { history: Array<{ when: number }> };
    expect(job.history[0]!.when).toBe(5);
  });

  it('refuses a malformed batch before running any of it', async () => {
    await expect(core.call(1, 'multi', 'put', 1, 'x')).rejects.toThrow(/Multi\(\): Arg "count" of put not a whole number: x/);
    await expect(core.call(1, 'multi', 'length', 1, 1, 'q', 'put', 1, 3, 'w', 'q')).rejects.toThrow(/Multi\(\): put is missing arguments/);
    expect(await dataKeys(ctx.redis)).toEqual([]);
    expect(await core.call(1, 'multi')).toEqual([]);
  });
});
