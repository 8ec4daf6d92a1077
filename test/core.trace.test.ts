/**
 * The `trace` option of put (qless-ts, for OpenTelemetry): the core keeps a
 * trace context in the job's hash and hands it only to `pop.raw` (after the
 * throttles' place). Every
 * other reply (get, multiget, peek, pop, the put itself) is what it would be
 * without it; a bad context is refused before anything is written; a re-put
 * without it drops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { snapshot } from './support/raw.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

const T = 1_700_000_000;
const TRACE = JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

/** Two jobs alike but for the trace context: `traced` and `plain`. */
async function both(): Promise<void> {
  expect(await core.call(T, 'put', 'w', 'q', 'traced', 'k.K', '{"a":1}', 0, 'trace', TRACE)).toBe('traced');
  expect(await core.call(T, 'put', 'w', 'q', 'plain', 'k.K', '{"a":1}', 0)).toBe('plain');
}

/** A reply with the plain job's jid swapped in, to compare it with the traced one's. */
const asPlain = (reply: unknown): string => JSON.stringify(reply).replaceAll('traced', 'plain');

describe('put with a trace context', () => {
  it('keeps it in the hash and out of get, multiget and peek', async () => {
    await both();
    expect(await ctx.redis.hget('ql:j:traced', 'trace')).toBe(TRACE);
    expect(await ctx.redis.hexists('ql:j:plain', 'trace')).toBe(0);
    expect(asPlain(await core.call(T, 'get', 'traced'))).toBe(JSON.stringify(await core.call(T, 'get', 'plain')));
    const many = await core.json<Array<{ jid: string }>>(T, 'multiget', 'traced', 'plain');
    expect(many).toHaveLength(2);
    expect(JSON.stringify(many)).not.toContain('trace"');
    expect(String(await core.call(T, 'peek', 'q', 10))).not.toContain('traceparent');
  });

  it('hands it to pop.raw only, as a field after the throttles; pop replies as ever', async () => {
    await both();
    const popped = (await core.call(T + 1, 'pop.raw', 'q', 'w', 10)) as unknown[][];
    const traced = popped.find((f) => f[0] === 'traced')!;
    const plain = popped.find((f) => f[0] === 'plain')!;
    // After the throttles' place (none here), the trace context.
    expect(plain).toHaveLength(18);
    expect(traced).toHaveLength(19);
    expect(traced[18]).toBe(TRACE);
    expect(asPlain(traced.slice(0, 18))).toBe(JSON.stringify(plain));

    // A job with throttles of its own keeps them in their place.
    await core.call(T + 2, 'put', 'w', 'q3', 'both', 'k.K', '{}', 0, 'throttles', '["api"]', 'trace', TRACE);
    const [withBoth] = (await core.call(T + 3, 'pop.raw', 'q3', 'w', 1)) as unknown[][];
    expect(withBoth!.slice(17)).toEqual([JSON.stringify(['api', 'ql:q:q3']), TRACE]);

    await core.call(T + 4, 'put', 'w', 'q2', 'again', 'k.K', '{}', 0, 'trace', TRACE);
    const reply = String(await core.call(T + 5, 'pop', 'q2', 'w', 1));
    expect(reply).not.toContain('traceparent');
  });

  it('a re-put without it drops it; one with it replaces it', async () => {
    await both();
    await core.call(T + 1, 'put', 'w', 'q', 'traced', 'k.K', '{"a":1}', 0);
    expect(await ctx.redis.hexists('ql:j:traced', 'trace')).toBe(0);
    const other = JSON.stringify({ traceparent: '00-11111111111111111111111111111111-2222222222222222-00' });
    await core.call(T + 2, 'put', 'w', 'q', 'traced', 'k.K', '{"a":1}', 0, 'trace', other);
    expect(await ctx.redis.hget('ql:j:traced', 'trace')).toBe(other);
  });

  it('refuses a context that is not a JSON object, and writes nothing', async () => {
    const before = await snapshot(ctx.redis);
    for (const bad of ['not json', '"a string"', '12', '[1,2]']) {
      await expect(core.call(T, 'put', 'w', 'q', 'bad', 'k.K', '{}', 0, 'trace', bad)).rejects.toThrow(/Put\(\): Arg "trace" not a JSON object/);
    }
    expect(await snapshot(ctx.redis)).toEqual(before);
  });
});
