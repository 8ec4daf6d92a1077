/**
 * Namespaces in the core: a call's one key `ql:{<name>}:` names the
 * namespace whose keys it builds (so that Redis Cluster can route it), and a
 * call without keys acts on qless-core's `ql:` keys exactly as before. Any
 * other key is refused as qless-core refuses keys. (Every other core test
 * also runs in a named namespace: the core-namespace project.)
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreMode } from './support/core.js';
import { snapshot } from './support/raw.js';
import { useRedis, testJobLayout } from './support/redis.js';
import { ScriptGateway } from '../src/gateway.js';
import { KeySpace } from '../src/keys.js';
import { coreLibrary, coreScript } from '../src/script.js';

// Tests marked skipIf(compactLayout) read the raw keys of today's job
// layout (fields holding defaults, `jid`, `time`, the -history list); in the
// core-compact project new jobs are stored otherwise, and
// test/core.compact.test.ts checks that layout's raw keys.
const compactLayout = testJobLayout() === 'compact';

const ctx = useRedis();
let connection: Redis;
const gateways = new Map<string, ScriptGateway>();

/** A gateway calling the core in `namespace` ('' for the default one). */
function core(namespace: string): ScriptGateway {
  let gateway = gateways.get(namespace);
  if (!gateway) {
    gateway = new ScriptGateway(connection, undefined, coreMode(), { keys: new KeySpace(namespace) });
    gateways.set(namespace, gateway);
  }
  return gateway;
}

beforeAll(() => {
  connection = new Redis(ctx.url);
});
afterAll(() => connection.disconnect());

/** Every key of the database, sorted (read on a connection of its own: ctx.redis may translate names). */
async function allKeys(): Promise<string[]> {
  return (await connection.keys('*')).sort();
}

const put = (namespace: string, now: number, jid: string, queue = 'q') => core(namespace).callAt(now, 'put', 'w', queue, jid, 'k', '{}', 0);

describe('core namespaces', () => {
  it.skipIf(compactLayout)('builds every key of a named namespace from the call\'s key, and leaves the default namespace alone', async () => {
    await put('orders', 1, 'j1');
    await core('orders').callAt(2, 'pop', 'q', 'w', 1);
    await core('orders').callAt(3, 'complete', 'j1', 'w', 'q', '{}', 'next', 'q2');
    await core('orders').callAt(4, 'tag', 'add', 'j1', 'red');
    const keys = await allKeys();
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) expect(key.startsWith('ql:{orders}:'), key).toBe(true);
    expect(keys).toEqual(expect.arrayContaining(['ql:{orders}:j:j1', 'ql:{orders}:j:j1-history', 'ql:{orders}:q:q2-work', 'ql:{orders}:queues', 'ql:{orders}:workers', 'ql:{orders}:t:red']));
    // The default namespace knows nothing of it.
    expect(await core('').callAt(5, 'get', 'j1')).toBeNull();
    expect(JSON.parse(String(await core('').callAt(5, 'queues')))).toEqual({});
  });

  it('keeps namespaces apart: the same jid and queue in two namespaces and the default one are three jobs', async () => {
    await put('', 1, 'same');
    await put('orders', 1, 'same');
    await put('billing', 1, 'same');
    await core('billing').callAt(2, 'cancel', 'same');
    expect(await core('billing').callAt(3, 'get', 'same')).toBeNull();
    expect(JSON.parse(String(await core('orders').callAt(3, 'get', 'same')))).toMatchObject({ jid: 'same', state: 'waiting' });
    expect(JSON.parse(String(await core('').callAt(3, 'get', 'same')))).toMatchObject({ jid: 'same', state: 'waiting' });
    expect(await allKeys()).toEqual(expect.arrayContaining(['ql:j:same', 'ql:{orders}:j:same']));
    expect((await allKeys()).filter((key) => key.includes('billing') && key.includes(':j:'))).toEqual([]);
  });

  it('publishes on the namespace\'s channels', async () => {
    const subscriber = new Redis(ctx.url);
    const heard: string[] = [];
    subscriber.on('pmessage', (_pattern: string, channel: string) => heard.push(channel));
    await subscriber.psubscribe('ql:*');
    try {
      await put('orders', 1, 'tracked');
      await core('orders').callAt(2, 'track', 'track', 'tracked');
      await core('orders').callAt(3, 'pop', 'q', 'w', 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toEqual(expect.arrayContaining(['ql:{orders}:log', 'ql:{orders}:track', 'ql:{orders}:popped']));
      for (const channel of heard) expect(channel.startsWith('ql:{orders}:'), channel).toBe(true);
    } finally {
      subscriber.disconnect();
    }
  });

  it('refuses any other key exactly as qless-core refuses keys, before writing anything', async () => {
    await put('orders', 1, 'seed');
    const before = await snapshot(connection);
    const { source } = coreScript();
    const refused = [['k'], ['ql:'], ['ql:{}:'], ['ql:{a b}:'], ['ql:{orders}'], ['ql:{orders}:j:x'], ['{orders}:'], ['ql:{-x}:'], ['ql:{..}:'], [`ql:{${'n'.repeat(65)}}:`], ['ql:{orders}:', 'ql:{orders}:']];
    for (const keys of refused) {
      await expect(connection.eval(source, keys.length, ...keys, 'put', '2', 'w', 'q', 'x', 'k', '{}', '0'), keys.join(' ')).rejects.toThrow(/No Keys should be provided/);
    }
    // The same through the function library.
    await core('orders').load();
    if (core('orders').via === 'function') {
      await expect(connection.fcall(coreLibrary().name, 1, 'k', 'put', '2', 'w', 'q', 'x', 'k', '{}', '0')).rejects.toThrow(/No Keys should be provided/);
    }
    expect(await snapshot(connection)).toEqual(before);
  });

  it('accepts a name of up to 64 letters, digits, _ . and -, starting with a letter or digit', async () => {
    const name = `A-z_0.9${'x'.repeat(57)}`;
    expect(name).toHaveLength(64);
    await put(name, 1, 'long');
    expect(await allKeys()).toContain(`ql:{${name}}:j:long`);
  });

  it('runs a multi in the namespace of the call', async () => {
    const reply = await core('orders').callAt(1, 'multi', 'put', 1, 6, 'w', 'q', 'm1', 'k', '{}', 0, 'put', 1, 6, 'w', 'q', 'm2', 'k', '{}', 0);
    expect(reply).toEqual(['m1', 'm2']);
    expect(await connection.zrange('ql:{orders}:q:q-work', 0, -1)).toEqual(['m1', 'm2']);
    expect(await connection.exists('ql:q:q-work')).toBe(0);
  });
});
