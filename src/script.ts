/**
 * Where the core script lives. `npm run build` writes `dist/qless.lua`; the
 * compiled library sits next to it (`dist/*.js`), while sources run by tests
 * or tsx find it one level up.
 *
 * The same body is also offered as a Redis 7 function library
 * ({@link coreLibrary}): loaded once with FUNCTION LOAD, its chunk runs at
 * load time instead of on every call, which is what qless-ts itself uses
 * when the server allows it. `dist/qless.lua` stays the EVALSHA contract
 * other clients load.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = ['./qless.lua', '../dist/qless.lua'];

/** Absolute path of the unified core script. */
export function coreScriptPath(): string {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('qless-ts: dist/qless.lua not found; run `npm run build` first');
}

let cached: { source: string; sha: string } | undefined;

/** The core script's text and its SHA1 (what EVALSHA names it by). */
export function coreScript(): { source: string; sha: string } {
  if (!cached) {
    const source = readFileSync(coreScriptPath(), 'utf8');
    cached = { source, sha: createHash('sha1').update(source).digest('hex') };
  }
  return cached;
}

/** The core as a Redis function library: its text and the one function it registers. */
export interface CoreLibrary {
  /** Library and function name, `qless_<sha1 of the script>`: each core version gets its own. */
  name: string;
  /** The text FUNCTION LOAD takes. */
  source: string;
}

/** The last line of the EVALSHA script: the call into the dispatcher. */
const EVAL_ENTRY = 'return dispatch(KEYS, ARGV)';

/**
 * The function-library form of a core script: a `#!lua name=…` header, the
 * same chunk, and instead of the final `return dispatch(KEYS, ARGV)` a
 * registration of `dispatch` under the library's name. The name carries the
 * script's SHA1, so clients of different core versions never replace each
 * other's code.
 */
export function coreLibraryFrom(scriptSource: string): CoreLibrary {
  const body = scriptSource.trimEnd();
  if (!body.endsWith(EVAL_ENTRY)) {
    throw new Error(`qless-ts: the core script does not end with "${EVAL_ENTRY}"`);
  }
  const name = `qless_${createHash('sha1').update(scriptSource).digest('hex')}`;
  const source =
    `#!lua name=${name}\n` +
    body.slice(0, body.length - EVAL_ENTRY.length) +
    `redis.register_function('${name}', dispatch)\n`;
  return { name, source };
}

let cachedLibrary: CoreLibrary | undefined;

/** The installed core script ({@link coreScript}) as a function library. */
export function coreLibrary(): CoreLibrary {
  cachedLibrary ??= coreLibraryFrom(coreScript().source);
  return cachedLibrary;
}
