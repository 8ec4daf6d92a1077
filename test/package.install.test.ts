/**
 * Using qless-ts from another project, as the README's "From your own
 * project" says (issue 17): `npm pack` the checkout, install the tarball
 * into an empty project, import the package there, and run the installed
 * `qless-ts-worker` on a `.ts` job of that project against this file's
 * private redis-server. The dependencies come from the npm cache that
 * `npm ci` filled (--prefer-offline), so no network is needed.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { ROOT } from './support/cli.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function sh(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('the packed package in a project of its own', () => {
  it('installs from `npm pack`, imports, and runs qless-ts-worker on a .ts job', async () => {
    const work = mkdtempSync(join(tmpdir(), 'qless-pack-'));
    dirs.push(work);
    // dist/ is built already (npm test builds first); --ignore-scripts keeps `prepack` from
    // rebuilding it under the feet of the other test files.
    const packed = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
    expect(packed.code, packed.stderr).toBe(0);
    const { filename, files } = (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/qless.lua', 'dist/cli/worker.js', 'bin/qless-ts-worker.js', 'README.md']));
    // Nothing of the tests, benches or sources beyond what the package needs.
    expect(paths.filter((p) => p.startsWith('test/') || p.startsWith('bench/') || p.startsWith('src/'))).toEqual([]);

    const project = join(work, 'app');
    mkdirSync(join(project, 'jobs'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const installed = await sh('npm', ['install', join(work, filename), '--prefer-offline', '--no-audit', '--no-fund'], project);
    expect(installed.code, installed.stderr).toBe(0);

    writeFileSync(
      join(project, 'check.mjs'),
      "import * as qless from 'qless-ts';\nimport { createDashboard } from 'qless-ts/web';\nconsole.log(typeof qless.client, typeof qless.Job, typeof createDashboard);\n",
    );
    const imported = await sh(process.execPath, ['check.mjs'], project);
    expect([imported.code, imported.stdout.trim()], imported.stderr).toEqual([0, 'function function function']);

    writeFileSync(
      join(project, 'jobs', 'greet.ts'),
      [
        "import type { Job } from 'qless-ts';",
        '',
        'export class Greet {',
        '  static process(job: Job): void {',
        "    const name: string = String(job.data['name']);",
        "    job.data['greeting'] = `hello, ${name}`;",
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const client = qless.client(ctx.url);
    try {
      const jid = await client.queue('greet').put('greet.Greet', { name: 'Ada' });
      const worker = spawn(join(project, 'node_modules', '.bin', 'qless-ts-worker'), ['-q', 'greet', '--redis', ctx.url, '-p', 'jobs', '-w', '1', '-i', '0.2', '--no-reload'], {
        cwd: project,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      worker.stdout.on('data', (c) => (log += String(c)));
      worker.stderr.on('data', (c) => (log += String(c)));
      const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
      try {
        await expect.poll(async () => (await client.jobs.get(jid) as qless.Job | null)?.state, { timeout: 60_000, interval: 200 }).toBe('complete');
      } finally {
        worker.kill('SIGTERM');
      }
      expect(await exited, log).toBe(0);
      expect(((await client.jobs.get(jid)) as qless.Job).data).toEqual({ name: 'Ada', greeting: 'hello, Ada' });
    } finally {
      await client.close();
    }
  }, 300_000);
});
