/**
 * Numbers and JSON given to the commands that take them, beyond put, pop,
 * peek, recur and config.set (their own files cover those): what the
 * reference took and then wrote with (inf and nan scores and priorities),
 * handed to Redis after a write (fractional offsets), or read oddly. Each
 * is refused before any write, with a message in the style of the
 * reference's own, which stay word for word where the reference had one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot } from './support/raw.js';
import { coreScript } from '../src/script.js';
import type { CoreArg } from '../src/gateway.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

const NOT_FINITE = ['nan', 'inf', '-inf', '1e400', '-nan'];

/** The call fails with `message` and leaves every key as it was. */
async function rejects(now: number, command: string, args: CoreArg[], message: string): Promise<void> {
  const before = await snapshot(ctx.redis);
  await expect(core.call(now, command, ...args)).rejects.toThrow(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

/** A running job `jid` held by w, a scheduled one, a failed one and a tagged one. */
beforeEach(async () => {
  await core.call(0, 'put', 'w', 'q', 'jid', 'k', '{}', 0, 'tags', '["t"]');
  await core.call(0, 'pop', 'q', 'w', 1);
  await core.call(0, 'put', 'w', 'q', 'later', 'k', '{}', 5);
  await core.call(0, 'put', 'w', 'q', 'broken', 'k', '{}', 0);
  await core.call(0, 'pop', 'q', 'w', 1);
  await core.call(0, 'fail', 'broken', 'w', 'grp', 'm');
});

describe('numbers that are not finite', () => {
  it.each(NOT_FINITE)('now %s is refused by the dispatcher (alone and inside multi)', async (bad) => {
    const before = await snapshot(ctx.redis);
    await expect(ctx.redis.eval(coreScript().source, 0, 'put', bad, 'w', 'q', 'x', 'k', '{}', 0)).rejects.toThrow(
      'Arg "now" missing or not a number: nil',
    );
    const reply = (await core.call(0, 'multi', 'put', bad, 6, 'w', 'q', 'x', 'k', '{}', 0)) as unknown[];
    expect(String(reply[0])).toContain('Arg "now" missing or not a number: nil');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it.each(NOT_FINITE)('priority %s', async (bad) => {
    await rejects(1, 'priority', ['jid', bad], `Priority(): Arg "priority" missing or not a number: ${bad}`);
  });

  it.each(NOT_FINITE)('retry delay %s', async (bad) => {
    await rejects(1, 'retry', ['jid', 'q', 'w', bad], `Retry(): Arg "delay" not a number: ${bad}`);
  });

  it.each(NOT_FINITE)('complete ... next delay %s (a word stays the reference\'s "assertion failed!")', async (bad) => {
    await rejects(1, 'complete', ['jid', 'w', 'q', '{}', 'next', 'q2', 'delay', bad], `Complete(): Arg "delay" not a number: ${bad}`);
    await rejects(1, 'complete', ['jid', 'w', 'q', '{}', 'next', 'q2', 'delay', 'soon'], 'assertion failed!');
  });

  it.each(NOT_FINITE)('stats date %s', async (bad) => {
    await rejects(1, 'stats', ['q', bad], `Stats(): Arg "date" missing or not a number: ${bad}`);
  });

  it.each(NOT_FINITE)('listing offsets and counts %s', async (bad) => {
    await rejects(1, 'jobs', ['running', 'q', bad], `Jobs(): Arg "offset" not a number: ${bad}`);
    await rejects(1, 'jobs', ['complete', 0, bad], `Jobs(): Arg "count" not a number: ${bad}`);
    await rejects(1, 'failed', ['grp', bad], `Failed(): Arg "start" is not a number: ${bad}`);
    await rejects(1, 'failed', ['grp', 0, bad], `Failed(): Arg "limit" is not a number: ${bad}`);
    await rejects(1, 'tag', ['get', 't', bad], `Tag(): Arg "offset" not a number: ${bad}`);
    await rejects(1, 'tag', ['top', 0, bad], `Tag(): Arg "count" not a number: ${bad}`);
    await rejects(1, 'unfail', ['q', 'grp', bad], `Unfail(): Arg "count" not a number: ${bad}`);
  });
});

// The reference handed these to Redis as indexes and LIMITs; Redis refused
// fractions with this text (after `jobs scheduled` had promoted jobs), and
// read 0 or negative unfail counts oddly.
describe('offsets and counts that Redis takes as integers', () => {
  it('refuses fractions with Redis\'s own text, before any write', async () => {
    await rejects(10, 'jobs', ['scheduled', 'q', 0.5], 'Jobs(): Arg "offset" value is not an integer or out of range: 0.5');
    expect(await ctx.redis.hget('ql:j:later', 'state')).toBe('scheduled');
    await rejects(10, 'jobs', ['complete', 0, 2.5], 'Jobs(): Arg "count" value is not an integer or out of range: 2.5');
    await rejects(10, 'failed', ['grp', 0.5], 'Failed(): Arg "start" value is not an integer or out of range: 0.5');
    await rejects(10, 'failed', ['grp', 0, 1.5], 'Failed(): Arg "limit" value is not an integer or out of range: 1.5');
    await rejects(10, 'tag', ['get', 't', 0, 1.5], 'Tag(): Arg "count" value is not an integer or out of range: 1.5');
    await rejects(10, 'tag', ['top', 0.5], 'Tag(): Arg "offset" value is not an integer or out of range: 0.5');
  });

  it('keeps the reference\'s whole-number readings: 0 and negatives for listings', async () => {
    expect(await core.call(1, 'jobs', 'complete', 0, 0)).toEqual([]);
    expect(await core.call(1, 'jobs', 'running', 'q', 0, -1)).toEqual(['jid']);
    expect(await core.json(1, 'failed', 'grp', 0, 0)).toEqual({ total: 1, jobs: ['broken'] });
  });

  it('refuses an unfail count below 1 or fractional', async () => {
    for (const bad of ['0', '-1', '1.5']) {
      await rejects(1, 'unfail', ['q', 'grp', bad], `Unfail(): Arg "count" value is not an integer or out of range: ${bad}`);
    }
    expect(await core.call(1, 'unfail', 'q', 'grp', 1)).toBe(1);
  });
});

describe('JSON arguments', () => {
  it('complete ... next depends must be a list: {} is empty, an object with keys or a scalar is refused', async () => {
    await rejects(1, 'complete', ['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '{"a":1}'],
      'Complete(): Arg "depends" not JSON: {"a":1} (must be a JSON array)');
    await rejects(1, 'complete', ['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '"later"'],
      'Complete(): Arg "depends" not JSON: "later" (must be a JSON array)');
    expect(await core.call(1, 'complete', 'jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '{}')).toBe('waiting');
  });

  it('complete ... next depends refuses jids ending in a reserved suffix', async () => {
    await rejects(1, 'complete', ['jid', 'w', 'q', '{}', 'next', 'q2', 'depends', '["later-dependencies"]'],
      'Complete(): Arg "depends" may not hold a jid ending in "-dependencies": later-dependencies');
  });

  it('log data must be an object (a scalar made every later read of the job fail)', async () => {
    await rejects(1, 'log', ['jid', 'note', '5'], "Log(): Argument 'data' not cjson: 5 (must be a JSON object)");
  });
});
