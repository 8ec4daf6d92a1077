/**
 * Docs that run. Every ```ts block of README.md is type-checked (strict)
 * against the built package as a consumer sees it (`import * as qless from
 * 'qless-ts'` resolves to dist/); every ```ts run block is also executed as
 * a standalone ES module with `QLESS_REDIS_URL` pointing at this file's private
 * redis-server (emptied before each block), and its output must equal the
 * ```text block that follows it.
 *
 * Needs `npm run build` first (as `npm test` does).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Snippet {
  index: number;
  line: number;
  code: string;
  run: boolean;
  output: string | undefined;
}

/** The README's ts blocks, in order, with the text block that follows each run block. */
export function snippets(markdown: string): Snippet[] {
  const fence = /^```([\w-]*)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  const blocks: Array<{ lang: string; info: string; body: string; start: number; end: number }> = [];
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    blocks.push({ lang: m[1]!, info: m[2]!.trim(), body: m[3]!, start: m.index, end: m.index + m[0].length });
  }
  const result: Snippet[] = [];
  blocks.forEach((block, i) => {
    if (block.lang !== 'ts') return;
    const run = block.info.split(/\s+/).includes('run');
    const next = blocks[i + 1];
    const adjacent = next && next.lang === 'text' && markdown.slice(block.end, next.start).trim() === '';
    result.push({
      index: result.length,
      line: markdown.slice(0, block.start).split('\n').length,
      code: block.body,
      run,
      output: run && adjacent ? next.body.replace(/\n$/, '') : undefined,
    });
  });
  return result;
}

function exec(file: string, argv: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, argv, { ...options, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const ctx = useRedis();
const all = snippets(readFileSync(join(ROOT, 'README.md'), 'utf8'));
let dir: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  dir = mkdtempSync(join(tmpdir(), 'qless-readme-'));
  // A consumer's view: qless-ts as an installed package, plus the tools.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'qless-ts'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  for (const snippet of all) writeFileSync(join(dir, `block-${snippet.index}.mts`), snippet.code);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'],
        strict: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false,
        isolatedModules: true, moduleDetection: 'force',
      },
      include: ['*.mts'],
    }),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README.md', () => {
  it('has runnable snippets with expected output', () => {
    expect(all.filter((s) => s.run).length).toBeGreaterThanOrEqual(12);
    for (const s of all.filter((x) => x.run)) expect(s.output, `block at line ${s.line}`).toBeDefined();
  });

  it('type-checks every ts block against the built package', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const { code, stdout, stderr } = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, timeout: 120_000 });
    // Point errors at README lines instead of temp files.
    const report = (stdout + stderr).replace(/block-(\d+)\.mts\((\d+),(\d+)\)/g, (_m, i: string, l: string, c: string) =>
      `README.md:${all[Number(i)]!.line + Number(l)}:${c}`);
    expect(report).toBe('');
    expect(code).toBe(0);
  }, 120_000);

  for (const snippet of all.filter((s) => s.run)) {
    it(`runs the block at README.md line ${snippet.line}`, async () => {
      const { code, stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', `block-${snippet.index}.mts`], {
        cwd: dir,
        env: { ...process.env, QLESS_REDIS_URL: ctx.url, NODE_OPTIONS: '' },
        timeout: 30_000,
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout.replace(/\n$/, '')).toBe(snippet.output);
    }, 40_000);
  }
});
