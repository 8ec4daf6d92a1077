/**
 * The layout of the core's Lua (see the note at the top of lua/base.lua):
 * helpers are fields of H, defined in groups by `load_*` functions and found
 * through find_helper (api.lua); commands are made one at a time by each
 * module's `*_commands(name)`, asked in turn by find_command. Nothing in Lua
 * checks that these lists agree, and a helper missing from them would only
 * fail when the code path that uses it runs, so they are checked here from
 * the sources, and every command is called once through the core.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { coreHarness, type CoreHarness } from './support/core.js';

const dir = fileURLToPath(new URL('../lua/', import.meta.url));
const files = readdirSync(dir).filter((name) => name.endsWith('.lua'));
const sources = new Map(files.map((name) => [name, readFileSync(dir + name, 'utf8')]));

/** Lua text with comments and string literals blanked out (same length). */
function codeOnly(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('--', i)) {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (text[i] === "'" || text[i] === '"') {
      const quote = text[i];
      let j = i + 1;
      while (j < text.length && text[j] !== quote) j += text[j] === '\\' ? 2 : 1;
      out += quote + ' '.repeat(j - i - 1) + quote;
      i = j + 1;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** The top-level `local function <name>(...)` blocks of a source: name → body. */
function topLevelFunctions(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^local function (\w+)\(/.exec(lines[i]!);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== 'end') j++;
    blocks.set(m[1]!, lines.slice(i, j + 1).join('\n'));
    i = j;
  }
  return blocks;
}

const all = [...sources.values()].join('\n');
const functions = new Map<string, string>();
for (const text of sources.values()) for (const [name, body] of topLevelFunctions(text)) functions.set(name, body);

/** Helper name → the loader that defines it. */
const definedBy = new Map<string, string>();
const duplicates: string[] = [];
for (const [loader, body] of functions) {
  if (!loader.startsWith('load_')) continue;
  for (const m of body.matchAll(/^ {2}(?:function H\.(\w+)\b|H\.(\w+) = )/gm)) {
    const name = (m[1] ?? m[2])!;
    if (definedBy.has(name) && definedBy.get(name) !== loader) duplicates.push(name);
    definedBy.set(name, loader);
  }
}

/** What find_helper maps each name to. */
function helperChain(): Map<string, string> {
  const body = codeOnly(functions.get('find_helper') ?? '');
  const raw = functions.get('find_helper') ?? '';
  const chain = new Map<string, string>();
  // Each clause: `if|elseif <name == 'x' or ...> then load = load_y`.
  const clause = /(?:if|elseif)([\s\S]*?)then\s+load = (load_\w+)/g;
  for (const m of body.matchAll(clause)) {
    const start = m.index! + m[0].indexOf(m[1]!);
    const conditions = raw.slice(start, start + m[1]!.length);
    for (const n of conditions.matchAll(/name == '(\w+)'/g)) chain.set(n[1]!, m[2]!);
  }
  return chain;
}

describe('core layout: helpers', () => {
  it('defines each helper in one loader', () => {
    expect(definedBy.size).toBeGreaterThan(50);
    expect(duplicates).toEqual([]);
  });

  it('finds every helper in the loader that defines it, and no other name', () => {
    expect(Object.fromEntries(helperChain())).toEqual(Object.fromEntries(definedBy));
  });

  it('uses no helper that no loader defines', () => {
    const used = new Set([...codeOnly(all).matchAll(/\bH\.(\w+)/g)].map((m) => m[1]!));
    const undefinedHelpers = [...used].filter((name) => !definedBy.has(name));
    expect(undefinedHelpers).toEqual([]);
  });
});

/** Command name → the `*_commands` function that makes it. */
const commandMakers = new Map<string, string>();
for (const [maker, body] of functions) {
  if (!maker.endsWith('_commands')) continue;
  for (const m of body.matchAll(/^ {2}if name == '([^']+)' then return function/gm)) {
    expect(commandMakers.has(m[1]!), `command ${m[1]} made twice`).toBe(false);
    commandMakers.set(m[1]!, maker);
  }
}

describe('core layout: commands', () => {
  it('asks every module for a command it does not have yet', () => {
    const finder = functions.get('find_command') ?? '';
    for (const maker of new Set(commandMakers.values())) expect(finder).toContain(`${maker}(name)`);
  });

  it('has the commands the spec names', () => {
    expect([...commandMakers.keys()].sort()).toEqual([
      'cancel', 'complete', 'config.get', 'config.set', 'config.unset', 'depends', 'fail', 'failed', 'get',
      'heartbeat', 'jobs', 'length', 'log', 'multiget', 'pause', 'peek', 'pop', 'pop.raw', 'priority', 'put',
      'queue.forget', 'queues', 'recur', 'recur.get', 'recur.tag', 'recur.untag', 'recur.update', 'requeue',
      'retry', 'stats', 'tag', 'timeout', 'track', 'unfail', 'unpause', 'unrecur', 'worker.deregister',
      'workers',
    ]);
  });
});

describe('core layout: every command runs', () => {
  const ctx = useRedis();
  let core: CoreHarness;
  beforeAll(() => { core = coreHarness(ctx); });
  afterAll(() => core.close());

  it('answers each command (with or without an error of its own) on a fresh call', async () => {
    for (const name of [...commandMakers.keys(), 'multi']) {
      const outcome = await core.call(1, name).then(
        () => 'ok',
        (error: Error) => error.message,
      );
      expect(outcome, name).not.toMatch(/Unknown command|attempt to call|nonexistent global/);
    }
  });
});
