/** `put` with every option, and `put --file` bulk loads (validate everything, then write). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { assertBuilt, bindCli, PTY, run, runInTerminal, runJson } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'qless-cli-put-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: ReadonlyArray<string | object>): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  return path;
}

async function job(jid: string): Promise<qless.Job> {
  const found = await make().jobs.get(jid);
  if (!(found instanceof qless.Job)) throw new Error(`no job ${jid}`);
  return found;
}

async function qlessKeys(): Promise<string[]> {
  return ctx.redis.keys('ql:*');
}

describe('put <queue> <klass>', () => {
  it('puts a job with every option and prints its jid', async () => {
    await make().queue('underpants').put('k.K', {}, { jid: 'first' });
    const result = await cli(
      'put', 'underpants', 'gnomes.GnomesJob',
      '--data', '{"address": "123 Brief St.", "n": [1, 2]}',
      '--priority', '-2.5', '--tag', 'urgent', '--tag', 'big', '--delay', '30', '--retries', '2',
      '--depends', 'first', '--jid', 'gnome-1',
    );
    expect(result.stderr).toBe('');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('gnome-1\n');
    const put = await job('gnome-1');
    expect(put).toMatchObject({
      klass: 'gnomes.GnomesJob', queue: 'underpants', state: 'depends', priority: -2.5, tags: ['urgent', 'big'],
      retries: 2, remaining: 2, dependencies: ['first'], data: { address: '123 Brief St.', n: [1, 2] },
    });
    // The delay applies once the dependency is done: the core records when.
    expect(Number(await ctx.redis.hget('ql:j:gnome-1', 'scheduled'))).toBeGreaterThan(Date.now() / 1000);
  });

  it('makes a random jid and empty data by default; --json gives {"jid"}', async () => {
    const { jid } = await runJson<{ jid: string }>(cli, 'put', 'underpants', 'gnomes.GnomesJob');
    expect(jid).toMatch(/^[0-9a-f]{32}$/);
    expect(await job(jid)).toMatchObject({ state: 'waiting', data: {}, priority: 0, retries: 5, tags: [] });
  });

  it('refuses bad values before writing anything (exit 2)', async () => {
    const cases = [
      ['put', 'q', 'k.K', '--data', '"text"'],
      ['put', 'q', 'k.K', '--priority', 'high'],
      ['put', 'q'],
      ['put', 'q', 'k.K', '--jid', ''],
    ];
    const results = await Promise.all(cases.map((args) => cli(...args)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]!.join(' ')).toBe(2);
      expect(result.stderr, cases[i]!.join(' ')).toMatch(/^error: /);
    });
    expect(await qlessKeys()).toEqual([]);
  });
});

describe('put --file', () => {
  it('loads every line in order, with data and options, and prints the count', async () => {
    const path = file('good.ndjson', [
      { queue: 'underpants', klass: 'gnomes.GnomesJob', data: { n: 1 }, options: { jid: 'a', tags: ['bulk'] } },
      '',
      { queue: 'underpants', klass: 'gnomes.GnomesJob', data: { n: 2 }, options: { jid: 'b', priority: 3, retries: 1 } },
      { queue: 'profit', klass: 'gnomes.Profit', options: { jid: 'c', depends: ['a'], delay: 10 } },
      '{"queue":"underpants","klass":"gnomes.GnomesJob","data":{"n":3}}\r',
    ]);
    const result = await cli('put', '--file', path);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`put 4 jobs from ${path}\n`);
    expect(result.stderr).toBe('put 4/4\n'); // no terminal: a plain count
    expect(await job('a')).toMatchObject({ queue: 'underpants', data: { n: 1 }, tags: ['bulk'], dependents: ['c'] });
    expect(await job('b')).toMatchObject({ priority: 3, retries: 1 });
    expect(await job('c')).toMatchObject({ queue: 'profit', klass: 'gnomes.Profit', state: 'depends', data: {} });
    const popped = await make().queue('underpants').pop(3);
    expect(popped.map((j) => j.data['n'])).toEqual([2, 1, 3]); // priority first, then file order
  });

  it('reads stdin with --file - and reports the jids under --json', async () => {
    const input = [
      JSON.stringify({ queue: 'q', klass: 'k.K', options: { jid: 'x' } }),
      JSON.stringify({ queue: 'q', klass: 'k.K' }),
    ].join('\n');
    const result = await run(['put', '--file', '-', '--json', '--host', ctx.url], { input });
    expect(result.code, result.stderr).toBe(0);
    const value = JSON.parse(result.stdout) as { put: number; jids: string[] };
    expect(value.put).toBe(2);
    expect(value.jids[0]).toBe('x');
    expect(value.jids[1]).toMatch(/^[0-9a-f]{32}$/);
    expect(await make().queue('q').length()).toBe(2);
  });

  it('keeps first-in first-out across a large pipelined load, with counts at each tenth', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => ({ queue: 'big', klass: 'k.K', data: { i } }));
    const result = await cli('put', '--file', file('big.ndjson', lines));
    expect(result.code, result.stderr).toBe(0);
    const counts = result.stderr.trim().split('\n');
    expect(counts.length).toBeLessThanOrEqual(10);
    expect(counts.at(-1)).toBe('put 2500/2500');
    const queue = make().queue('big');
    expect(await queue.length()).toBe(2500);
    const order = (await queue.peek(2500)).map((j) => j.data['i']);
    expect(order).toEqual(lines.map((_, i) => i));
  });

  const BAD: Array<[string, ReadonlyArray<string | object>, number, RegExp]> = [
    ['not JSON', ['{"queue":"q","klass":"k.K"}', '{"queue": "q",'], 2, /not JSON/],
    ['missing klass', [{ queue: 'q', klass: 'k.K' }, { queue: 'q', klass: 'k.K' }, { queue: 'q' }], 3, /klass must be a non-empty string/],
    ['a bad option', [{ queue: 'q', klass: 'k.K' }, { queue: 'q', klass: 'k.K', options: { priority: 'high' } }], 2, /options\.priority must be a finite number/],
    ['an unknown field', [{ queue: 'q', klass: 'k.K', priorty: 1 }], 1, /unknown field "priorty"/],
    ['data that is not an object', [{ queue: 'q', klass: 'k.K', data: [1] }], 1, /data must be a plain JSON object/],
    ['a repeated jid', [{ queue: 'q', klass: 'k.K', options: { jid: 'j' } }, { queue: 'q', klass: 'k.K', options: { jid: 'j' } }], 2, /jid j was already given on line 1/],
    ['a dependency put later', [{ queue: 'q', klass: 'k.K', options: { jid: 'x', depends: ['y'] } }, { queue: 'q', klass: 'k.K', options: { jid: 'y' } }], 1, /depends on y, put by line 2, which comes later/],
  ];

  for (const [what, lines, line, message] of BAD) {
    it(`reports ${what} with its line number and writes nothing (exit 2)`, async () => {
      const path = file('bad.ndjson', [...lines, { queue: 'q', klass: 'k.K', options: { jid: 'after' } }]);
      const result = await cli('put', '--file', path);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^error: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: `));
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('nothing was written');
      expect(await qlessKeys()).toEqual([]);
    });
  }

  it('refuses --file together with a queue or put options, and a missing file', async () => {
    const path = file('one.ndjson', [{ queue: 'q', klass: 'k.K' }]);
    for (const args of [['put', 'q', '--file', path], ['put', '--file', path, '--priority', '1'], ['put', '--file', join(dir, 'missing.ndjson')]]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^error: /);
    }
    expect(await qlessKeys()).toEqual([]);
  });

  it.runIf(PTY)('draws a progress bar on a terminal', async () => {
    const path = file('tty.ndjson', Array.from({ length: 50 }, () => ({ queue: 'q', klass: 'k.K' })));
    const result = await runInTerminal(['put', '--file', path, '--host', ctx.url], '');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/put \[█+\] 100% 50\/50/);
    expect(result.stdout).toContain(`put 50 jobs from ${path}`);
  });
});
