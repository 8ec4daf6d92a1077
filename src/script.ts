/**
 * Where the core script lives. `npm run build` writes `dist/qless.lua`; the
 * compiled library sits next to it (`dist/*.js`), while sources run by tests
 * or tsx find it one level up.
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
