/**
 * The three binaries agree (issue 17): the same Redis options (`--redis
 * <url>`, or `--host`/`--port`), the dashboard's own address under names of
 * its own (`--bind`, `--http-port`), `--version` everywhere, and a usage
 * error is one line on stderr with exit 2.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workerOptions } from '../src/worker/options.js';
import { ROOT } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);

const BINS = { 'qless-ts': 'qless-ts.js', 'qless-ts-worker': 'qless-ts-worker.js', 'qless-ts-web': 'qless-ts-web.js' } as const;
type Bin = keyof typeof BINS;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(bin: Bin, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', BINS[bin]), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the three binaries agree', { timeout: 60_000 }, () => {
  it('print the package version with --version', async () => {
    for (const bin of Object.keys(BINS) as Bin[]) {
      const result = await run(bin, ['--version']);
      expect([bin, result.code, result.stdout.trim()]).toEqual([bin, 0, VERSION]);
    }
  });

  it('answer a usage error with one line on stderr and exit 2', async () => {
    const cases: Array<[Bin, string[]]> = [
      ['qless-ts', ['queues', '--bogus']],
      ['qless-ts-worker', ['-q', 'a', '--bogus']],
      ['qless-ts-web', ['--bogus']],
      ['qless-ts', ['queues', '--port', '70000']],
      ['qless-ts-worker', ['-q', 'a', '--port', '70000']],
      ['qless-ts-web', ['--port', '70000']],
      ['qless-ts-web', ['--http-port', 'x']],
      ['qless-ts-web', ['--redis', 'http://example.com']],
      ['qless-ts-worker', ['-q', 'a', '--redis', 'redis://127.0.0.1:1', '--host', 'h']],
    ];
    const results = await Promise.all(cases.map(([bin, args]) => run(bin, args)));
    results.forEach((result, i) => {
      const [bin, args] = cases[i]!;
      const what = `${bin} ${args.join(' ')}`;
      expect(result.code, what).toBe(2);
      expect(result.stdout, what).toBe('');
      expect(result.stderr.trimEnd().split('\n'), what).toHaveLength(1);
    });
  });

  it('take --redis <url> for Redis, and --port as Redis\'s port everywhere (the dashboard listens on --http-port)', async () => {
    await make().queue('agreed').put('k.K', {});
    const cli = await run('qless-ts', ['queues', '--json', '--redis', ctx.url]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject([{ name: 'agreed' }]);
    const { hostname, port } = new URL(ctx.url);
    const byPort = await run('qless-ts', ['queues', '--json', '--host', hostname, '--port', port]);
    expect(JSON.parse(byPort.stdout)).toMatchObject([{ name: 'agreed' }]);
    expect(workerOptions({ queue: ['a'], redis: ctx.url }, ROOT, {}).url).toBe(ctx.url);
    expect(workerOptions({ queue: ['a'], host: hostname, port }, ROOT, {}).url).toBe(`redis://${hostname}:${port}`);

    for (const args of [['--redis', ctx.url], ['--host', hostname, '--port', port]]) {
      const web = spawn(process.execPath, [join(ROOT, 'bin', 'qless-ts-web.js'), ...args, '--http-port', '0', '--bind', '127.0.0.1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const address = await new Promise<string>((resolve, reject) => {
          let out = '';
          web.stdout.setEncoding('utf8').on('data', (c: string) => {
            out += c;
            const match = /serving (http:\/\/\S+)/.exec(out);
            if (match) resolve(match[1]!);
          });
          web.once('exit', (code) => reject(new Error(`qless-ts-web exited with ${code}: ${out}`)));
        });
        expect(await (await fetch(`${address}queues`)).text()).toContain('agreed');
      } finally {
        web.kill('SIGTERM');
      }
    }
  });

  it("the worker's --help shows examples, the signals and the exit codes", async () => {
    const help = await run('qless-ts-worker', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}qless-ts-worker -q /);
    expect(help.stdout).toMatch(/Signals \(to the supervisor\):\n {2}SIGTERM +graceful stop/);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 {2}supervisor: shut down as asked/);
    expect(help.stdout).toContain('--reserver <order>');
    const web = await run('qless-ts-web', ['--help']);
    expect(web.stdout).toContain('--http-port <port>');
    expect(web.stdout).toMatch(/--redis <url>[\s\S]*--host <host>[\s\S]*--port <port>/);
    expect(web.stdout).not.toMatch(/-p, --port/);
  });
});
