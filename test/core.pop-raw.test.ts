import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { appendRawHistory, flushTestDb, snapshot } from './support/raw.js';
import * as wire from '../src/wire.js';
import type { CoreReply } from '../src/gateway.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

const T = 1_700_000_000.123456;

/** Jobs of every shape a job object can take, in queue q. */
async function scenario(): Promise<void> {
  const put = (now: number, jid: string, ...rest: Array<string | number>) => core.call(now, 'put', 'w', 'q', jid, 'k.K', '{"i":1}', 0, ...rest);
  await put(T, 'plain');
  await put(T + 1, 'tagged', 'tags', '["b","a"]', 'priority', 2.5, 'retries', 3);
  // Failed, then put again: the failure stays visible.
  await put(T + 2, 'failed');
  await core.call(T + 3, 'pop', 'q', 'other', 10);
  await core.call(T + 4, 'fail', 'failed', 'other', 'grp', 'boom / "quoted"');
  for (const jid of ['plain', 'tagged']) await core.call(T + 4, 'put', 'w', 'q', jid, 'k.K', '{"i":1}', 0);
  await core.call(T + 5, 'put', 'w', 'q', 'failed', 'k.K', '{"i":2}', 0);
  await core.call(T + 5.5, 'log', 'plain', 'note', JSON.stringify({ n: 1.2345678901234567, list: [], obj: {}, arr: [1, 2.000000000000001], s: 'x/y"z', deep: { d: [0.1] }, big: 123456789012345680000 }));
  // Dependents: `parent` runs while `child` waits for it.
  await put(T + 6, 'parent');
  await core.call(T + 6, 'put', 'w', 'q', 'child', 'k.K', '{}', 0, 'depends', '["parent"]');
  // Tracked, and a legacy history blob, and an odd stored entry.
  await put(T + 7, 'tracked');
  await core.call(T + 7, 'track', 'track', 'tracked');
  await put(T + 8, 'legacy');
  await ctx.redis.hset('ql:j:legacy', 'history', JSON.stringify([{ q: 'q', put: T - 100, popped: T - 50, worker: 'old' }]));
  await appendRawHistory(ctx.redis, 'plain', '[5,"weird",["p","q"]]');
  // A child of a recurring template.
  await core.call(T + 9, 'recur', 'q', 'tpl', 'k.K', '{"r":1}', 'interval', 60, 0, 'tags', '["t"]');
}

describe('pop.raw', () => {
  it('has the effects of pop, and its jobs read exactly like pop’s job objects', async () => {
    await scenario();
    const json = await core.call(T + 20, 'pop', 'q', 'w', 20);
    const viaJson = wire.jsonList('pop', json).map((value) => wire.jobRecord('pop', value));
    const afterJson = await snapshot(ctx.redis);

    await flushTestDb(ctx.redis);
    await scenario();
    const raw = await core.call(T + 20, 'pop.raw', 'q', 'w', 20);
    // (Each popped record's history is decoded when first read.)
    const viaRaw = wire.jobRecordsFromFields('pop', raw).map(wire.decodedRecord);
    const afterRaw = await snapshot(ctx.redis);

    expect(afterRaw).toEqual(afterJson);
    expect(viaRaw.map((job) => job.jid).sort()).toEqual(['failed', 'legacy', 'parent', 'plain', 'tagged', 'tpl-1', 'tracked']);
    expect(viaRaw).toEqual(viaJson);
    // The cases the conversion has to get right are really there.
    const byJid = new Map(viaRaw.map((job) => [job.jid, job]));
    expect(byJid.get('failed')!.failure).toMatchObject({ group: 'grp', message: 'boom / "quoted"' });
    expect(byJid.get('parent')!.dependents).toEqual(['child']);
    expect(byJid.get('tracked')!.tracked).toBe(true);
    expect(byJid.get('tpl-1')!.spawnedFromJid).toBe('tpl');
    expect(byJid.get('legacy')!.history.map((h) => h.what)).toEqual(['put', 'put', 'popped', 'popped']);
    expect(byJid.get('plain')!.history.find((h) => h.what === 'note')).toMatchObject({ n: 1.2345678901235, list: {}, arr: [1, 2] });
    expect(byJid.get('plain')!.history.find((h) => h.what === 'weird')).toMatchObject({ 1: 'p', 2: 'q' });
    expect(byJid.get('tagged')!.expires).toBe(Number((T + 80).toPrecision(14)));
  });

  it('answers an empty array when there is nothing to hand out', async () => {
    expect(await core.call(1, 'pop.raw', 'q', 'w', 5)).toEqual([]);
    await core.call(1, 'pause', 'q');
    await core.call(1, 'put', 'w', 'q', 'a', 'k.K', '{}', 0);
    expect(await core.call(2, 'pop.raw', 'q', 'w', 5)).toEqual([]);
    expect(await core.call(2, 'pop', 'q', 'w', 5)).toBe('{}');
  });

  it('checks its arguments as pop does', async () => {
    await expect(core.call(1, 'pop.raw', 'q', 'w')).rejects.toThrow('Pop(): Arg "count" missing or not a number: nil');
  });
});

describe('jobRecordFromFields', () => {
  it('rejects what is not a job', () => {
    expect(() => wire.jobRecordsFromFields('pop', 'nope' as CoreReply)).toThrow(/expected a list of jobs/);
    expect(() => wire.jobRecordFromFields('pop', ['a'])).toThrow(/expected the fields of a job/);
  });

  it('decodes the history when it is first read, and says then what is wrong with it', () => {
    const fields = (history: unknown[]): unknown[] =>
      ['j', 'k.K', 'running', 'q', 'w', '0', '1796531508.5469999', '5', '5', '{}', '{}', null, null, 0, [], [], history, null];
    const record = wire.jobRecordFromFields('pop', fields(['[1796531448,"put",{"q":"q"}]', '[1796531448.25,"popped",{"worker":"w"}]']));
    expect(record.expires).toBe(1796531508.547);
    expect(record.history.decode()).toEqual([
      { q: 'q', when: 1796531448, what: 'put' },
      { worker: 'w', when: 1796531448.25, what: 'popped' },
    ]);
    const odd = wire.jobRecordFromFields('pop', fields(['{"not":"a list"}']));
    expect(() => odd.history.decode()).toThrow(/history entry is not a list/);
  });
});
