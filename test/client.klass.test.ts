import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';

describe('the klass rule', () => {
  it('splits at the last dot: module path segments, then the export', () => {
    expect(qless.parseKlass('gnomes.GnomesJob')).toEqual({ modulePath: ['gnomes'], exportName: 'GnomesJob' });
    expect(qless.parseKlass('pkg.sub.mod.Job')).toEqual({ modulePath: ['pkg', 'sub', 'mod'], exportName: 'Job' });
    expect(qless.parseKlass('jobs.default')).toEqual({ modulePath: ['jobs'], exportName: 'default' });
  });

  it('refuses strings that name no module export', () => {
    for (const bad of ['', 'GnomesJob', '.Job', 'gnomes.', 'a..B', 'a/b.C', '...', 'x.../y']) {
      expect(() => qless.parseKlass(bad), bad).toThrow(qless.InvalidArgumentError);
    }
    expect(() => qless.parseKlass('GnomesJob')).toThrow(/names no module.*gnomes\.GnomesJob/);
  });

  it('lists candidate files under each root, files before index files', () => {
    const files = qless.klassCandidates('pkg.sub.mod.Job', ['/a', 'rel'], { cwd: '/work', extensions: ['.ts', '.js'] });
    expect(files).toEqual([
      '/a/pkg/sub/mod.ts', '/a/pkg/sub/mod.js', '/a/pkg/sub/mod/index.ts', '/a/pkg/sub/mod/index.js',
      '/work/rel/pkg/sub/mod.ts', '/work/rel/pkg/sub/mod.js', '/work/rel/pkg/sub/mod/index.ts', '/work/rel/pkg/sub/mod/index.js',
    ]);
    expect(qless.klassCandidates('gnomes.GnomesJob', ['/r'])).toEqual([
      ...qless.KLASS_EXTENSIONS.map((e) => `/r/gnomes${e}`),
      ...qless.KLASS_EXTENSIONS.map((e) => `/r/gnomes/index${e}`),
    ]);
  });

  it('finds the first existing candidate', () => {
    const root = mkdtempSync(join(tmpdir(), 'qless-klass-'));
    try {
      mkdirSync(join(root, 'pkg', 'mod'), { recursive: true });
      writeFileSync(join(root, 'pkg', 'mod', 'index.js'), 'export class Job {}');
      expect(qless.findKlassFile('pkg.mod.Job', ['/nonexistent', root])).toBe(join(root, 'pkg', 'mod', 'index.js'));
      writeFileSync(join(root, 'pkg', 'mod.mjs'), 'export class Job {}');
      expect(qless.findKlassFile('pkg.mod.Job', [root])).toBe(join(root, 'pkg', 'mod.mjs'));
      expect(qless.findKlassFile('pkg.none.Job', [root])).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('klassOf: strings as given, classes by their own klass', () => {
    class A {
      static klass = 'mod.A';
    }
    class B {
      static get klass(): string {
        return 'mod.B';
      }
    }
    const C = qless.defineKlass(class {}, 'mod.C');
    const D = { klass: 'mod.D', process: () => undefined };
    expect(qless.klassOf('Ruby::Style')).toBe('Ruby::Style');
    expect(qless.klassOf(A)).toBe('mod.A');
    expect(qless.klassOf(B)).toBe('mod.B');
    expect(qless.klassOf(C)).toBe('mod.C');
    expect(qless.klassOf(D)).toBe('mod.D');
    class Sub extends A {}
    expect(() => qless.klassOf(Sub)).toThrow(/class Sub only inherits the klass "mod.A"/);
    expect(() => qless.defineKlass(class {}, 'nodot')).toThrow(qless.InvalidArgumentError);
    expect(() => qless.klassOf(class Plain {})).toThrow(/static klass = '<module path>\.Plain'/);
  });
});
