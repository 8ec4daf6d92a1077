/**
 * Running the core tests in a named namespace (QLESS_TEST_NAMESPACE, set by
 * the `core-namespace` project of vitest.config.ts): the core harness calls
 * the core with that namespace's key, and the test's raw connection and
 * event recorder see the namespace as if it were the default one. A test
 * reading `ql:j:jid` then reads `ql:{orders}:j:jid`, a `KEYS ql:*` lists the
 * namespace's keys under their default names, and a raw EVAL/FCALL with no
 * key gets the namespace's key. So every core test, unchanged, checks that a
 * named namespace behaves exactly as the default one, key for key, and that
 * nothing is written outside it (the snapshot helpers list every key, and a
 * key outside the namespace would show up there untranslated).
 */
import type { Redis } from 'ioredis';
import { KeySpace } from '../../src/keys.js';

/** The namespace the core tests run in, or undefined for the default one. */
export function testNamespace(): string | undefined {
  const name = process.env['QLESS_TEST_NAMESPACE'];
  return name === undefined || name === '' ? undefined : name;
}

/** The key names of the namespace the core tests run in. */
export function testKeys(): KeySpace {
  return new KeySpace(testNamespace());
}

const DEFAULT_PREFIX = 'ql:';

/** Name translation between the default namespace's names and the test namespace's. */
export interface NameMap {
  /** A default-namespace name (`ql:…`) as the test namespace names it; other text unchanged. */
  inward(name: string): string;
  /** A test-namespace name under its default-namespace name; other text unchanged. */
  outward(name: string): string;
}

export function nameMap(keys: KeySpace): NameMap {
  const prefix = keys.prefix;
  return {
    inward: (name) => (name.startsWith(DEFAULT_PREFIX) ? prefix + name.slice(DEFAULT_PREFIX.length) : name),
    outward: (name) => (name.startsWith(prefix) ? DEFAULT_PREFIX + name.slice(prefix.length) : name),
  };
}

/** What ioredis's Command exposes at run time that this module uses. */
interface RawCommand {
  name: string;
  args: unknown[];
  resolve: (value: unknown) => void;
  _iterateKeys(transform: (key: unknown) => unknown): unknown[];
}

const SCRIPT_CALLS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/**
 * Make `redis` (a test's raw connection) see the test namespace as the
 * default one; a no-op in the default namespace. Key arguments are found by
 * ioredis's own table of where each command has its keys (the mechanism of
 * its `keyPrefix` option, which can only prepend).
 */
export function seeNamespaceAsDefault(redis: Redis, keys: KeySpace = testKeys()): Redis {
  if (keys.namespace === undefined) return redis;
  const map = nameMap(keys);
  const inward = (key: unknown): unknown => (typeof key === 'string' ? map.inward(key) : key);
  const outward = (reply: unknown): unknown => {
    // Replies reach a command's resolve as the parser made them (Buffers).
    if (Buffer.isBuffer(reply)) return Buffer.from(map.outward(reply.toString()));
    if (typeof reply === 'string') return map.outward(reply);
    if (Array.isArray(reply)) return reply.map(outward);
    return reply;
  };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: RawCommand, ...rest: unknown[]) => {
    const name = command.name.toLowerCase();
    if (SCRIPT_CALLS.has(name) && String(command.args[1]) === '0') {
      // A raw call of the core with no key: the namespace's key instead.
      command.args.splice(1, 1, '1', keys.prefix);
    } else if (name === 'keys') {
      command.args[0] = inward(command.args[0]);
      const resolve = command.resolve;
      command.resolve = (value) => resolve(outward(value));
    } else {
      command._iterateKeys(inward);
    }
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as unknown as Redis['sendCommand'];
  return redis;
}
