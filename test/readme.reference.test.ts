/**
 * The README's Reference table names every public method and getter of the
 * classes a user meets (issue 17: `completeAndPop` and `completeMany` were
 * missing). Read from the built declarations (dist/*.d.ts), which hold
 * exactly the public surface; `@internal` members and `toString` are left
 * out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

/** Where each class of the Reference is declared, and the row that must name its members. */
const CLASSES: ReadonlyArray<readonly [file: string, name: string, row: string]> = [
  ['client.d.ts', 'Client', '`qless.client(url?, options?)`'],
  ['queue.d.ts', 'Queue', '`Queue`'],
  ['job.d.ts', 'Job', '`Job`'],
  ['recurring.d.ts', 'RecurringJob', '`RecurringJob`'],
  ['jobs.d.ts', 'Jobs', '`client.jobs`'],
  ['workers.d.ts', 'Workers', '`client.queues` / `client.workers`'],
  ['workers.d.ts', 'Queues', '`client.queues` / `client.workers`'],
  ['config.d.ts', 'Config', '`client.config`'],
  ['events.d.ts', 'Events', '`client.events`'],
  ['throttles.d.ts', 'Throttles', '`client.throttles`'],
];

/** Public methods and getters of `name` in a declaration file. */
function members(declarations: string, name: string): string[] {
  const start = declarations.indexOf(`export declare class ${name} `);
  if (start < 0) throw new Error(`class ${name} not found`);
  const body = declarations.slice(start, declarations.indexOf('\n}\n', start));
  const found = new Set<string>();
  let internal = false;
  for (const line of body.split('\n').slice(1)) {
    if (/^\s*\/\*\*.*@internal|^\s*\*\s*@internal/.test(line)) internal = true;
    const member = /^ {4}(?:get |set )?(?!private |protected |#|static )([A-Za-z]\w*)\s*(?:<[^>]*>)?\(/.exec(line);
    if (member) {
      if (!internal && member[1] !== 'toString' && member[1] !== 'constructor') found.add(member[1]!);
      internal = false;
    } else if (/^ {4}\S/.test(line) && !/^ {4}(\/\*\*|\*)/.test(line)) {
      internal = false;
    }
  }
  return [...found];
}

describe('README Reference table', () => {
  it('names every public method and getter of the classes it lists', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Reference'), readme.indexOf('## Running jobs: qless-ts-worker'));
    const missing: string[] = [];
    for (const [file, name, row] of CLASSES) {
      const line = section.split('\n').find((l) => l.startsWith(`| ${row} |`));
      expect(line, row).toBeDefined();
      for (const member of members(readFileSync(join(ROOT, 'dist', file), 'utf8'), name)) {
        if (!new RegExp(`\`${member}[(\`]|[ (,]${member}[(\`,]|\\b${member}\\(`).test(line!)) missing.push(`${name}.${member}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('finds what it looks for', () => {
    const queue = members(readFileSync(join(ROOT, 'dist', 'queue.d.ts'), 'utf8'), 'Queue');
    expect(queue).toEqual(expect.arrayContaining(['put', 'pop', 'completeAndPop', 'client', 'forget']));
    expect(queue).not.toContain('putArgs');
  });
});
