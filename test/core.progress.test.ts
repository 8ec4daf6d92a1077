/**
 * `job.progress` in the core: who may report, what is accepted, where it is
 * stored and published, what `get` shows (and that a job which never
 * reported gets exactly the reply it got before), and when a report stops
 * showing (the run it belongs to is over).
 */
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { snapshot } from './support/raw.js';
import type { CoreArg } from '../src/gateway.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

async function rejectsCleanly(now: number, args: CoreArg[], message: string | RegExp): Promise<void> {
  const before = await snapshot(ctx.redis);
  await expect(core.call(now, 'job.progress', ...args)).rejects.toThrow(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

/** A job `jid` put at 0 and popped at 1 by `worker`. */
async function running(jid = 'j', worker = 'w'): Promise<void> {
  await core.call(0, 'put', worker, 'q', jid, 'k', '{}', 0);
  await core.call(1, 'pop', 'q', worker, 1);
}

const get = (now: number, jid = 'j') => core.json<Record<string, unknown>>(now, 'get', jid);

describe('job.progress', () => {
  it('stores a number, publishes it, and get shows it', async () => {
    await running();
    await events.settle();
    events.clear();
    expect(await core.call(2, 'job.progress', 'j', 'w', '42.5')).toBe('42.5');
    expect((await get(3))['progress']).toBe(42.5);
    expect(await events.settle()).toEqual([
      { channel: 'ql:log', message: '{"jid":"j","event":"progress","queue":"q","worker":"w","progress":42.5}' },
    ]);
  });

  it('stores a small object as sent; a tracked job also announces its jid on ql:progress', async () => {
    await running();
    await core.call(1, 'track', 'track', 'j');
    await events.settle();
    events.clear();
    await core.call(2, 'job.progress', 'j', 'w', '{"done": 40, "of": 200, "step": "resize"}');
    expect((await get(3))['progress']).toEqual({ done: 40, of: 200, step: 'resize' });
    expect(await events.settle()).toEqual([
      { channel: 'ql:log', message: '{"jid":"j","event":"progress","queue":"q","worker":"w","progress":{"done": 40, "of": 200, "step": "resize"}}' },
      { channel: 'ql:progress', message: 'j' },
    ]);
  });

  it('a later report replaces the earlier one; multiget, peek and track show it too', async () => {
    await running();
    await core.call(2, 'job.progress', 'j', 'w', '10');
    await core.call(3, 'job.progress', 'j', 'w', '90');
    expect((await core.json<Array<Record<string, unknown>>>(4, 'multiget', 'j'))[0]!['progress']).toBe(90);
  });

  it('leaves get byte-identical for a job that never reported', async () => {
    await running('a');
    await running('b');
    const before = await core.call(2, 'get', 'a');
    await core.call(2, 'job.progress', 'b', 'w', '50');
    expect(await core.call(3, 'get', 'a')).toBe(before);
    expect(before).not.toContain('progress');
  });

  it('drops the report from view when the run ends in completion or a new pop; a failed run keeps it', async () => {
    await running('done');
    await core.call(2, 'job.progress', 'done', 'w', '99');
    await core.call(3, 'complete', 'done', 'w', 'q', '{}');
    expect(await get(4, 'done')).not.toHaveProperty('progress');

    await running('again');
    await core.call(2, 'job.progress', 'again', 'w', '30');
    await core.call(3, 'retry', 'again', 'q', 'w', 0);
    await core.call(4, 'pop', 'q', 'w2', 1);
    expect(await get(5, 'again')).not.toHaveProperty('progress');

    await running('broken');
    await core.call(2, 'job.progress', 'broken', 'w', '{"step":"upload"}');
    await core.call(3, 'fail', 'broken', 'w', 'group', 'message', '{}');
    expect((await get(4, 'broken'))['progress']).toEqual({ step: 'upload' });
  });

  it('a job with throttles shows both its throttles and its progress', async () => {
    await core.call(0, 'put', 'w', 'q', 'j', 'k', '{}', 0, 'throttles', '["api"]');
    await core.call(1, 'pop', 'q', 'w', 1);
    await core.call(2, 'job.progress', 'j', 'w', '60');
    expect(await get(3)).toMatchObject({ throttles: ['api', 'ql:q:q'], progress: 60 });
  });

  describe('refusals write nothing and publish nothing', () => {
    const cases: Array<[string, CoreArg[], string | RegExp]> = [
      ['jid missing', [], 'Progress(): Arg "jid" missing'],
      ['worker missing', ['j'], 'Progress(): Arg "worker" missing'],
      ['value missing', ['j', 'w'], 'Progress(): Arg "progress" missing'],
      ['not JSON', ['j', 'w', 'half'], 'Progress(): Arg "progress" must be a number from 0 to 100 or a JSON object: half'],
      ['below 0', ['j', 'w', '-1'], 'must be a number from 0 to 100 or a JSON object: -1'],
      ['above 100', ['j', 'w', '100.5'], 'must be a number from 0 to 100 or a JSON object: 100.5'],
      ['a list', ['j', 'w', '[1,2]'], 'must be a number from 0 to 100 or a JSON object: [1,2]'],
      ['an empty list', ['j', 'w', ' []'], 'must be a number from 0 to 100 or a JSON object:  []'],
      ['a string', ['j', 'w', '"half"'], 'must be a number from 0 to 100 or a JSON object: "half"'],
      ['null', ['j', 'w', 'null'], 'must be a number from 0 to 100 or a JSON object: null'],
      ['too long', ['j', 'w', JSON.stringify({ log: 'x'.repeat(1100) })], /Progress\(\): Arg "progress" is longer than 1024 bytes \(11\d\d\)/],
      ['another worker', ['j', 'other', '5'], 'Progress(): Job j given out to another worker: w'],
      ['no such job', ['nope', 'w', '5'], 'Progress(): Job nope does not exist'],
    ];
    it.each(cases)('%s', async (_name, args, message) => {
      await running();
      await events.settle();
    events.clear();
      await rejectsCleanly(2, args, message);
      expect(await events.settle()).toEqual([]);
    });

    it('a job that is not running', async () => {
      await core.call(0, 'put', 'w', 'q', 'j', 'k', '{}', 0);
      await rejectsCleanly(2, ['j', 'w', '5'], 'Progress(): Job j not currently running: waiting');
    });
  });
});
