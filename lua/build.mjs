#!/usr/bin/env node
// Builds the one script clients load, dist/qless.lua (a path other tools
// rely on), from the core's Lua modules: concatenated in dependency order,
// with the lazy registry of api.lua generated from the sources.
//
// The registry is two lookups (see the layout note in base.lua): which
// `load_*` group defines a helper H.<name> (find_helper), and which
// `*_commands` maker makes a command (find_command). They are generated,
// not written by hand, so that a helper or a command cannot be added
// without being found; and the build refuses sources whose helpers or
// commands do not add up (defined twice, used but never defined, defined
// but never used, defined outside a group, a key name spelt outside the
// key section), listing every problem it found.
//
// Both lookups are trees of string comparisons (by length, then by name):
// a table of all the names would be built on every EVALSHA call, since the
// whole chunk runs per call in that form.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Order matters: a Lua local is only visible to code after it, so helpers
// come first, commands in the middle and the dispatcher last.
export const MODULES = [
  'base.lua',
  'config.lua',
  'job.lua',
  'tags.lua',
  'recurring.lua',
  'queue.lua',
  'worker.lua',
  'throttle.lua',
  'api.lua',
];

// The line of api.lua that the generated lookups replace.
export const REGISTRY_MARKER = '-- @registry: find_helper and find_command are generated here by lua/build.mjs';

// Where key and channel names may be spelt: the groups whose names start
// with this (load_keys, load_keys_rare), and the constant KEY_PREFIX they
// use. Everything else asks their helpers.
const KEY_GROUP = 'load_keys';
const KEY_PREFIX_LINE = /^local KEY_PREFIX = 'ql:'$/m;

// Lua 5.1 limits a closure to 60 upvalues: the lookups capture every loader
// or maker they can call.
const MAX_UPVALUES = 60;

const here = dirname(fileURLToPath(import.meta.url));

/** Raised when the sources do not add up; `problems` lists each one. */
export class CoreLayoutError extends Error {
  constructor(problems) {
    super(`lua/build.mjs: the core's sources do not add up:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CoreLayoutError';
    this.problems = problems;
  }
}

/**
 * Reads Lua text: `code` is the text with comments and string contents
 * blanked (quotes kept), of the same length and line structure, so that
 * positions and lines still match the source; `strings` lists each string
 * literal's content with its line. Handles long brackets ([[ ]], [==[ ]==]).
 */
export function scanLua(text) {
  let code = '';
  const strings = [];
  let line = 0;
  let i = 0;
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  const advance = (s) => {
    line += s.split('\n').length - 1;
    return s;
  };
  const longBracket = (at) => {
    const m = /^\[(=*)\[/.exec(text.slice(at, at + 64));
    if (!m) return -1;
    const close = text.indexOf(`]${m[1]}]`, at + m[0].length);
    return close < 0 ? text.length : close + m[1].length + 2;
  };
  while (i < text.length) {
    if (text.startsWith('--', i)) {
      const long = longBracket(i + 2);
      const newline = text.indexOf('\n', i);
      const end = long >= 0 ? long : newline < 0 ? text.length : newline;
      code += blank(advance(text.slice(i, end)));
      i = end;
    } else if (text[i] === "'" || text[i] === '"') {
      const quote = text[i];
      let j = i + 1;
      while (j < text.length && text[j] !== quote && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      strings.push({ line, value: text.slice(i + 1, j) });
      code += quote + blank(advance(text.slice(i + 1, j))) + (j < text.length ? quote : '');
      i = j + 1;
    } else if (text[i] === '[' && longBracket(i) >= 0) {
      const end = longBracket(i);
      strings.push({ line, value: text.slice(i, end) });
      code += blank(advance(text.slice(i, end)));
      i = end;
    } else {
      if (text[i] === '\n') line++;
      code += text[i];
      i++;
    }
  }
  return { code, strings };
}

/**
 * The top-level `local function <name>(` blocks of a module, by the house
 * convention: the header at column 0, the closing `end` alone at column 0.
 */
function topLevelFunctions(module, code) {
  const blocks = [];
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^local function (\w+)\(/.exec(lines[i]);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== 'end') j++;
    blocks.push({ name: m[1], module, first: i, last: j, body: lines.slice(i, j + 1).join('\n') });
    i = j;
  }
  return blocks;
}

/**
 * What the sources define and use: helper name → loader, command name →
 * maker, loaders and makers in source order. Throws CoreLayoutError with
 * every problem found.
 */
export function analyseCore(sources) {
  const problems = [];
  const loaders = [];
  const makers = [];
  const helpers = new Map();
  const commands = new Map();
  const uses = new Map();

  for (const module of MODULES) {
    const text = sources.get(module);
    if (text === undefined) {
      problems.push(`module ${module} is missing`);
      continue;
    }
    const { code, strings } = scanLua(text);
    const codeLines = code.split('\n');
    const textLines = text.split('\n');
    const blocks = topLevelFunctions(module, code);
    const blockAt = (line) => blocks.find((b) => line >= b.first && line <= b.last);
    const where = (line) => `${module}:${line + 1}`;

    // Definitions: `function H.<name>(` or `H.<name> = ` at the top of a
    // load_* group (two spaces in); anywhere else they are a mistake.
    const definitionLines = new Set();
    codeLines.forEach((line, k) => {
      for (const m of line.matchAll(/(?<![.\w])(?:function H\.(\w+)\s*\(|H\.(\w+)\s*=(?!=))/g)) {
        const name = m[1] ?? m[2];
        const block = blockAt(k);
        const atTop = /^ {2}(?:function H\.\w+\s*\(|H\.\w+\s*=(?!=))/.test(line) && m.index === 2;
        if (!block || !block.name.startsWith('load_') || !atTop) {
          problems.push(`helper H.${name} is defined outside the top of a load_* group (${where(k)})`);
          continue;
        }
        definitionLines.add(k);
        if (helpers.has(name)) {
          problems.push(`helper H.${name} is defined twice (${helpers.get(name)} and ${block.name}, ${where(k)})`);
        } else {
          helpers.set(name, block.name);
        }
      }
      // Uses: every other H.<name>.
      for (const m of line.matchAll(/(?<![.\w])H\.(\w+)/g)) {
        if (definitionLines.has(k) && m.index <= 11) continue; // the definition itself
        if (!uses.has(m[1])) uses.set(m[1], where(k));
      }
    });

    for (const block of blocks) {
      if (block.name.startsWith('load_')) loaders.push(block.name);
      if (!block.name.endsWith('_commands')) continue;
      makers.push(block.name);
      // Clauses `if name == '<command>' then return function`; the names are
      // string literals, so they are read from the source text.
      let made = 0;
      for (let k = block.first; k <= block.last; k++) {
        if (!/^ {2}if name ==/.test(codeLines[k])) continue;
        const m = /^ {2}if name == '([^']+)' then return function/.exec(textLines[k]);
        if (!m) {
          problems.push(`${block.name} has a clause the build cannot read (${where(k)})`);
          continue;
        }
        made++;
        if (commands.has(m[1])) {
          problems.push(`command ${m[1]} is made twice (${commands.get(m[1])} and ${block.name})`);
        } else {
          commands.set(m[1], block.name);
        }
      }
      if (made === 0) problems.push(`${block.name} makes no command`);
    }

    // Key and channel names: a `ql:` string literal anywhere but the key group.
    for (const literal of strings) {
      if (!literal.value.includes('ql:')) continue;
      if (KEY_PREFIX_LINE.test(textLines[literal.line])) continue;
      if (blockAt(literal.line)?.name.startsWith(KEY_GROUP)) continue;
      problems.push(`a key name is spelt outside the ${KEY_GROUP}* groups (${where(literal.line)}): '${literal.value}'`);
    }

  }

  for (const [name, where] of uses) {
    if (!helpers.has(name)) problems.push(`helper H.${name} is used (${where}) but no load_* group defines it`);
  }
  for (const [name, loader] of helpers) {
    if (!uses.has(name)) problems.push(`helper H.${name} (${loader}) is defined but never used`);
  }
  if (loaders.length > MAX_UPVALUES) problems.push(`${loaders.length} load_* groups: find_helper may capture at most ${MAX_UPVALUES}`);
  if (makers.length > MAX_UPVALUES) problems.push(`${makers.length} *_commands makers: find_command may capture at most ${MAX_UPVALUES}`);
  const api = sources.get('api.lua') ?? '';
  if (api.split('\n').filter((line) => line === REGISTRY_MARKER).length !== 1) {
    problems.push(`api.lua must hold the line "${REGISTRY_MARKER}" exactly once`);
  }
  if (problems.length > 0) throw new CoreLayoutError(problems);
  return { helpers, commands, loaders, makers };
}

/**
 * Lua statements that set `target` to what `name` maps to (left nil for a
 * name not in `map`). The names are sorted by length into a balanced tree of
 * `n <= k` tests (n = #name, a constant-time length), and a leaf compares the
 * few names of one length: about log2(lengths) + a handful of comparisons
 * per lookup, where one chain of every name took dozens.
 */
function lookupTree(map, target, indent) {
  const byLength = new Map();
  for (const [name, value] of map) {
    if (!byLength.has(name.length)) byLength.set(name.length, []);
    byLength.get(name.length).push([name, value]);
  }
  const lengths = [...byLength.keys()].sort((a, b) => a - b);
  const lines = [];
  const leaf = (entries, pad) => {
    // Names that map to the same value share one test.
    const values = [...new Set(entries.map(([, value]) => value))];
    values.forEach((value, i) => {
      const tests = entries.filter(([, v]) => v === value).map(([name]) => `name == '${name}'`);
      lines.push(`${pad}${i === 0 ? 'if' : 'elseif'} ${tests.join(' or ')} then`);
      lines.push(`${pad}  ${target} = ${value}`);
    });
    lines.push(`${pad}end`);
  };
  const node = (lo, hi, pad) => {
    if (lo === hi) return leaf(byLength.get(lengths[lo]), pad);
    const mid = Math.floor((lo + hi) / 2);
    lines.push(`${pad}if n <= ${lengths[mid]} then`);
    node(lo, mid, `${pad}  `);
    lines.push(`${pad}else`);
    node(mid + 1, hi, `${pad}  `);
    lines.push(`${pad}end`);
  };
  node(0, lengths.length - 1, indent);
  return lines.join('\n');
}

/** The Lua text of find_helper and find_command for an analysed core. */
export function registryLua({ helpers, commands }) {
  return `-- Generated by lua/build.mjs from the load_* groups and *_commands makers
-- of the sources (do not edit dist/qless.lua). Each is a tree of string
-- comparisons rather than a table: a table of every name would be built on
-- every EVALSHA call.

-- Where each helper is defined: looking up H.<name> the first time (in a
-- call, or ever in the function-library form) runs its group's loader,
-- which defines the whole group in H.
local function find_helper(helpers, name)
  local load
  local n = #name
${lookupTree(helpers, 'load', '  ')}
  if load == nil then return nil end
  load()
  return rawget(helpers, name)
end

-- A command not made yet: made by its module's maker and kept.
local function find_command(registry, name)
  local make
  local n = #name
${lookupTree(commands, 'make', '  ')}
  if make == nil then return nil end
  local command = make(name)
  rawset(registry, name, command)
  return command
end`;
}

/** The core's sources as the build reads them: module name → text. */
export async function readCoreSources(dir = here) {
  const sources = new Map();
  for (const name of MODULES) sources.set(name, await readFile(join(dir, name), 'utf8'));
  return sources;
}

/** The EVALSHA script (dist/qless.lua) made from `sources` (default: lua/*.lua). */
export async function buildCoreScript(sources) {
  sources ??= await readCoreSources();
  const registry = registryLua(analyseCore(sources));
  const parts = MODULES.map((name) => {
    let body = sources.get(name).trimEnd();
    if (name === 'api.lua') body = body.replace(REGISTRY_MARKER, registry);
    return `-- ==== ${name} ====\n${body}\n`;
  });
  return `-- qless-ts core: generated from lua/*.lua by lua/build.mjs; do not edit.\n${parts.join('\n')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = join(here, '..', 'dist', 'qless.lua');
  try {
    const script = await buildCoreScript();
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, script);
    console.log(`wrote ${out}`);
  } catch (error) {
    console.error(error instanceof CoreLayoutError ? error.message : error);
    process.exit(1);
  }
}
