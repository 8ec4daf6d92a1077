import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';
import { coreScript } from '../src/script.js';
import { ScriptError } from '../src/errors.js';

const ctx = useRedis();
let core: CoreHarness;
beforeAll(() => { core = coreHarness(ctx); });
afterAll(() => core.close());

describe('dispatcher', () => {
  it('refuses keys', async () => {
    const { source } = coreScript();
    await expect(ctx.redis.eval(source, 1, 'k', 'get', '0', 'jid')).rejects.toThrow(/No Keys should be provided/);
  });

  it('requires a command', async () => {
    await expect(ctx.redis.eval(coreScript().source, 0)).rejects.toThrow(/Must provide a command/);
  });

  it('rejects unknown commands, case-sensitively', async () => {
    await expect(core.call(0, 'nope')).rejects.toThrow(/Unknown command nope/);
    await expect(core.call(0, 'PUT')).rejects.toThrow(/Unknown command PUT/);
  });

  it('checks now after the command name', async () => {
    await expect(ctx.redis.eval(coreScript().source, 0, 'get')).rejects.toThrow(/bad argument #1 to 'tonumber'/);
    await expect(ctx.redis.eval(coreScript().source, 0, 'get', 'abc')).rejects.toThrow(/Arg "now" missing or not a number: nil/);
    await expect(ctx.redis.eval(coreScript().source, 0, 'get', '')).rejects.toThrow(/Arg "now" missing or not a number: nil/);
  });

  it('surfaces script errors as typed errors carrying the message', async () => {
    const error = await core.call(0, 'nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScriptError);
    expect((error as ScriptError).scriptMessage).toBe('Unknown command nope');
  });

  it('reloads the script after SCRIPT FLUSH', async () => {
    await expect(core.call(0, 'nope')).rejects.toThrow(/Unknown command/);
    await ctx.redis.script('FLUSH');
    await expect(core.call(0, 'nope')).rejects.toThrow(/Unknown command/);
    await ctx.redis.script('FLUSH');
    const outcomes = await core.gateway.callMany([{ command: 'nope', args: [] }, { command: 'nada', args: [] }], 0);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.message))).toEqual(['nope: Unknown command nope', 'nada: Unknown command nada']);
  });
});
