/**
 * qless-ts as a program: help, version, usage errors, exit codes, and every
 * way of naming the Redis to use (flags, URL, $QLESS_REDIS_URL) — including
 * a Redis that cannot be reached.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_URL } from '../src/index.js';
import { buildProgram } from '../src/cli/qless/program.js';
import { DEFAULT_URL as CLI_DEFAULT_URL, resolveTarget } from '../src/cli/qless/target.js';
import { assertBuilt, bindCli, run } from './support/cli.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const cli = bindCli(() => ctx.url);
const CLOSED = 'redis://127.0.0.1:1';

beforeAll(assertBuilt);

const COMMANDS = [
  'queues', 'queue', 'pause', 'unpause', 'put', 'get', 'cancel', 'retry', 'move', 'priority', 'track', 'untrack',
  'tag', 'untag', 'depends', 'failed', 'unfail', 'retry-group', 'cancel-group', 'workers', 'worker', 'tags', 'tagged',
  'tracked', 'recurring', 'recurring list', 'recurring add', 'recurring update', 'recurring cancel', 'config', 'config list', 'config get',
  'queues list', 'queues forget', 'jobs', 'completed',
  'config set', 'config unset', 'watch',
];

describe('help, version and usage errors', () => {
  it('prints help with every command and the exit codes', async () => {
    const result = await run(['--help']);
    expect(result.code, result.stderr).toBe(0);
    for (const command of COMMANDS.filter((c) => !c.includes(' '))) expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toMatch(/^ {2}3 {2}cannot reach Redis$/m);
  });

  it('has --help on every command, showing the connection options', async () => {
    // In-process (the binary's own --help is checked above): 34 node start-ups would dominate the suite.
    for (const command of COMMANDS) {
      let out = '';
      const program = buildProgram({ writeOut: (text) => (out += text), writeErr: (text) => (out += text) });
      await expect(program.parseAsync([...command.split(' '), '--help'], { from: 'user' })).rejects.toMatchObject({ exitCode: 0, code: 'commander.helpDisplayed' });
      expect(out, command).toContain(`Usage: qless-ts ${command}`);
      expect(out, command).toMatch(/Global Options:[\s\S]*--redis <url>[\s\S]*--host <host>[\s\S]*--port <port>[\s\S]*--json/);
      // --url still works (the old name of --redis) but is not offered.
      expect(out, command).not.toContain('--url');
    }
  });

  it('prints the version of the package', async () => {
    const result = await run(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 with the error on stderr for an unknown command, option, missing or extra argument', async () => {
    const cases: string[][] = [['nope'], ['queues', '--bogus'], ['get'], ['get', 'a', 'b'], ['queue', 'q', '--date', 'someday'], ['put', 'q', 'k', '--data', '[1]'], ['put', 'q', 'k', '--data', '{bad'], ['put', 'q', 'k', '--retries', '1.5'], ['queues', '--port', '70000'], ['failed', 'g', '--count', '0']];
    const results = await Promise.all(cases.map((args) => cli(...args)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]!.join(' ')).toBe(2);
      expect(result.stderr, cases[i]!.join(' ')).toMatch(/^error: /m);
      expect(result.stdout, cases[i]!.join(' ')).toBe('');
    });
    expect(results[0]!.stderr).toContain("unknown command 'nope'");
    expect(results[1]!.stderr).toContain("unknown option '--bogus'");
    expect(results[5]!.stderr).toContain('must be a JSON object');
  });

  it('exits 2 and shows help on stderr when no command is given', async () => {
    const result = await run([]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: qless-ts');
  });
});

describe('connecting', () => {
  it('uses --host with a URL, --url, --host/--port and $QLESS_REDIS_URL', async () => {
    await ctx.redis.zadd('ql:queues', 1, 'here');
    const port = new URL(ctx.url).port;
    const variants = [
      run(['queues', '--json', '--host', ctx.url]),
      run(['queues', '--json', '--url', ctx.url]),
      run(['--host', '127.0.0.1', '--port', port, 'queues', '--json']),
      run(['queues', '--json'], { env: { QLESS_REDIS_URL: ctx.url } }),
    ];
    for (const result of await Promise.all(variants)) {
      expect(result.stderr).toBe('');
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as Array<{ name: string }>).map((q) => q.name)).toEqual(['here']);
    }
  });

  it('prefers the flags over $QLESS_REDIS_URL', async () => {
    const result = await run(['queues', '--host', ctx.url], { env: { QLESS_REDIS_URL: CLOSED } });
    expect(result.code, result.stderr).toBe(0);
  });

  it('exits 3 when Redis cannot be reached, naming it (without its password)', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv]> = [
      [['queues'], {}], // the test environment's QLESS_REDIS_URL is a closed port
      [['get', 'x', '--host', CLOSED], {}],
      [['put', 'q', 'k', '--url', 'redis://:secret@127.0.0.1:1/2'], {}],
      [['--host', '127.0.0.1', '--port', '1', 'config'], {}],
      [['watch', '--host', CLOSED], {}],
    ];
    const results = await Promise.all(cases.map(([args, env]) => run(args, { env })));
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(3);
      expect(result.stderr).toMatch(/^error: cannot reach Redis at \S+: .*ECONNREFUSED/);
      expect(result.stdout).toBe('');
    });
    expect(results[0]!.stderr).toContain('redis://127.0.0.1:1');
    expect(results[2]!.stderr).toContain('redis://:***@127.0.0.1:1/2');
    expect(results[2]!.stderr).not.toContain('secret');
    expect(results[3]!.stderr).toContain('127.0.0.1:1');
  });

  it('falls back to the same default URL as the library', () => {
    expect(CLI_DEFAULT_URL).toBe(DEFAULT_URL);
    expect(resolveTarget({}, {})).toMatchObject({ kind: 'url', url: DEFAULT_URL });
    expect(resolveTarget({ port: 7000 }, {})).toMatchObject({ kind: 'host', host: '127.0.0.1', port: 7000 });
  });

  it('refuses contradictory or malformed connection options with exit 2', async () => {
    const cases = [
      ['queues', '--url', ctx.url, '--host', 'localhost'],
      ['queues', '--host', ctx.url, '--port', '7000'],
      ['queues', '--url', 'http://localhost'],
      ['queues', '--url', 'not a url'],
    ];
    const results = await Promise.all(cases.map((args) => run(args)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]!.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^error: /);
    });
    const bad = await run(['queues'], { env: { QLESS_REDIS_URL: 'ftp://x' } });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('QLESS_REDIS_URL');
  });
});
