#!/usr/bin/env node
// Concatenates the core's Lua modules, in dependency order, into the one
// script that clients load: dist/qless.lua (a path other tools rely on).
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
  'api.lua',
];

const here = dirname(fileURLToPath(import.meta.url));

export async function buildCoreScript() {
  const parts = [];
  for (const name of MODULES) {
    const body = await readFile(join(here, name), 'utf8');
    parts.push(`-- ==== ${name} ====\n${body.trimEnd()}\n`);
  }
  return `-- qless-ts core: generated from lua/*.lua by lua/build.mjs; do not edit.\n${parts.join('\n')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = join(here, '..', 'dist', 'qless.lua');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, await buildCoreScript());
  console.log(`wrote ${out}`);
}
