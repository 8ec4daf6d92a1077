/**
 * The command line: bad ones are refused with a clear message and exit
 * status 2 before anything starts; the Redis target is built from --host,
 * --port and QLESS_REDIS_URL.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisUrl, UsageError, workerOptions } from '../src/worker/options.js';
import { EXIT, EXIT_TABLE, SIGNALS } from '../src/worker/signals.js';
import { BIN, FIXTURES, ROOT, useWorkers } from './worker.harness.js';

const workers = useWorkers();

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('qless-ts-worker command line', { timeout: 60_000 }, () => {
  const refused: Array<[string[], string]> = [
    [[], 'no queue given: name at least one with --queue <name>'],
    [['-q', 'a', '--workers', 'abc'], '--workers must be a whole number at least 0, got "abc"'],
    [['-q', 'a', '--workers', '1.5'], '--workers must be a whole number at least 0, got "1.5"'],
    [['-q', 'a', '--concurrency', '0'], '--concurrency must be a whole number at least 1, got "0"'],
    [['-q', 'a', '--interval', '0'], '--interval must be a number greater than 0, got "0"'],
    [['-q', 'a', '--timeout', '-1'], '--timeout must be a number at least 0, got "-1"'],
    [['-q', 'a', '--grace', 'soon'], '--grace must be a number at least 0, got "soon"'],
    [['-q', 'a', '--max-jobs', 'x'], '--max-jobs must be a whole number at least 0, got "x"'],
    [['-q', 'a', '--max-memory', '-5'], '--max-memory must be a number at least 0, got "-5"'],
    [['-q', 'a', '--path', '/no/such/dir'], '--path /no/such/dir: no such directory'],
    [['-q', 'a', '--path', BIN], 'not a directory'],
    [['-q', 'a', '--host', 'http://example.com'], '--host has the scheme http://, which is not one of redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://: http://example.com'],
    [['-q', 'a', '--host', 'redis://example.com:1', '--port', '2'], 'put the port in it instead of giving --port'],
    [['-q', 'a', '--port', '70000'], '--port must be a port number from 1 to 65535, got "70000"'],
    [['-q', 'a', '--host', 'redis+cluster://127.0.0.1:7000/'], 'a Redis Cluster needs a namespace: give --namespace <name>'],
    [['-q', 'a', '--namespace', 'a b'], '--namespace must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit, got "a b"'],
    [['-q', 'a', '--bogus'], "unknown option '--bogus'"],
    [['-q', 'a', 'extra'], 'too many arguments'],
    [['-q'], "option '-q, --queue <name>' argument missing"],
  ];
  for (const [args, message] of refused) {
    it.concurrent(`refuses ${args.join(' ') || '(nothing)'}`, async () => {
      const { code, stdout, stderr } = await cli(args);
      expect(stderr).toContain(message);
      expect(code).toBe(EXIT.USAGE);
      expect(stdout).toBe('');
    });
  }

  it('prints its options with --help, and the README documents each of them', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Running jobs: qless-ts-worker'), readme.indexOf('### Processes, concurrency and locks'));
    const flags = [...stdout.matchAll(/^\s+((?:-\w, )?--[\w-]+(?: <[^>]+>)?)/gm)].map((m) => m[1]!).filter((f) => f !== '-h, --help');
    expect(flags.length).toBe(30);
    for (const flag of flags) expect(section, flag).toContain(`| \`${flag.replace('|', '\\|')}\``);
  });

  it('prints its version with --version', async () => {
    const { code, stdout } = await cli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('has one table of signals and exit codes, in the code and in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const row of SIGNALS) expect(readme).toContain(`| \`${row.signal}\` | ${row.parent} | ${row.child} |`);
    for (const row of EXIT_TABLE) expect(readme).toContain(`| ${row.code} | ${row.meaning} |`);
  });

  it('exits 1 when an --import module fails in the supervisor', async () => {
    const { code, stdout } = await cli(['-q', 'a', '--host', 'redis://127.0.0.1:1', '--import', './test/fixtures/jobs/broken.mjs']);
    expect(code).toBe(EXIT.FAILURE);
    expect(stdout).toContain(`--import ${join(ROOT, 'test/fixtures/jobs/broken.mjs')} failed`);
    expect(stdout).toContain('this module is broken');
  });

  it('takes --host <host> --port <port>, waits for a Redis that is not there, and still stops on SIGTERM', async () => {
    const worker = workers.start(['-q', 'a', '--host', '127.0.0.1', '--port', '1', '-w', '1', '-p', FIXTURES]);
    const started = await worker.waitFor('supervisor started');
    expect(started['url']).toBe('redis://127.0.0.1:1');
    await worker.waitFor('Redis unavailable; waiting for it', (line) => line.role === 'supervisor');
    worker.signal('SIGUSR2');
    const status = await worker.waitFor('supervisor status');
    expect(status['children']).toEqual([expect.objectContaining({ index: 0, running: [] })]);
    worker.signal('SIGTERM');
    expect(await worker.waitExit(10_000)).toEqual({ code: 0, signal: null });
  });

  it('--logger appends the log to a file at the level asked for (info, or debug with --verbose)', async () => {
    const dir = workers.tmp();
    const preload = join(ROOT, 'test/fixtures/preload/mark.mjs');
    const base = ['-q', 'a', '--host', 'redis://127.0.0.1:1', '-w', '1', '-p', FIXTURES, '--import', preload];
    for (const verbose of [false, true]) {
      const file = join(dir, `${verbose ? 'debug' : 'info'}.log`);
      const worker = workers.start([...base, '--logger', file, ...(verbose ? ['--verbose'] : [])]);
      await worker.waitFor('Redis unavailable; waiting for it', (line) => line.role === 'supervisor');
      worker.signal('SIGTERM');
      expect((await worker.waitExit(10_000)).code).toBe(0);
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { msg: string; level: number });
      expect(lines.map((l) => l.msg)).toContain('supervisor started');
      expect(lines.map((l) => l.msg)).toContain('supervisor exiting');
      // `preloaded` is a debug line: only with --verbose.
      expect(lines.some((l) => l.msg === 'preloaded')).toBe(verbose);
      expect(lines.every((l) => l.level >= (verbose ? 20 : 30))).toBe(true);
    }
  });

  it('builds the Redis URL from --host, --port and QLESS_REDIS_URL', () => {
    expect(redisUrl(undefined, undefined, {})).toBe('redis://127.0.0.1:6379');
    expect(redisUrl(undefined, undefined, { QLESS_REDIS_URL: 'redis://r:7000/2' })).toBe('redis://r:7000/2');
    expect(redisUrl(undefined, '7001', { QLESS_REDIS_URL: 'redis://r:7000/2' })).toBe('redis://r:7001/2');
    expect(redisUrl('foo.bar', '1234', {})).toBe('redis://foo.bar:1234');
    expect(redisUrl('foo.bar', undefined, {})).toBe('redis://foo.bar:6379');
    expect(redisUrl('foo.bar:1234', undefined, {})).toBe('redis://foo.bar:1234');
    expect(redisUrl('rediss://:secret@foo.bar:6380/1', undefined, {})).toBe('rediss://:secret@foo.bar:6380/1');
    expect(() => redisUrl('foo.bar:1234', '1', {})).toThrow(UsageError);
  });

  it('fills in defaults', () => {
    const options = workerOptions({ queue: ['a', 'b', 'a'] }, ROOT, {});
    expect(options).toMatchObject({
      queues: ['a', 'b'], paths: [ROOT], concurrency: 1, interval: 5, url: 'redis://127.0.0.1:6379', workdir: ROOT,
      resume: false, timeout: 0, grace: 30, maxJobs: 0, maxMemory: 0, verbose: false, reload: true,
    });
    expect(options.workers).toBeGreaterThan(0);
    expect(workerOptions({ queue: ['a'], import: ['./setup.mjs', 'some-package', 'tracing.ts'] }, ROOT, {})).toMatchObject({
      imports: [join(ROOT, 'setup.mjs'), 'some-package', join(ROOT, 'tracing.ts')],
      launchDir: ROOT,
    });
    expect(SIGNALS.map((row) => row.signal)).toEqual(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR2', 'SIGKILL']);
  });
});
