/**
 * What `qless-ts` refuses before writing (issue 12): numeric config values
 * that are not numbers (exit 2), option names that are likely typos (stored,
 * warned about on stderr), reserved jids in `put --jid` and bulk loads, and
 * the empty queue name. Through the real binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOperatorValue } from '../src/config.js';
import { assertBuilt, bindCli, runJson } from './support/cli.js';
import { useClients } from './support/client.js';
import { snapshot } from './support/raw.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'qless-cli-validation-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config set', () => {
  it('refuses a value that is not a number for a numeric option (exit 2), storing nothing, and pops keep working', async () => {
    const client = make();
    await client.queue('underpants').put('k.K', {}, { jid: 'pair-1' });
    const before = await snapshot(ctx.redis);
    const heartbeat = await cli('config', 'set', 'heartbeat', '60s');
    expect(heartbeat.code).toBe(2);
    expect(heartbeat.stdout).toBe('');
    expect(heartbeat.stderr).toBe('error: heartbeat must be a number of seconds, such as 60; got 60s\n');
    const concurrency = await cli('config', 'set', 'underpants-max-concurrency', 'two');
    expect(concurrency.code).toBe(2);
    expect(concurrency.stderr).toBe('error: underpants-max-concurrency must be a number of jobs, such as 4 (0 for no limit); got two\n');
    for (const option of ['grace-period', 'jobs-history', 'jobs-history-count', 'max-job-history', 'max-worker-age', 'stats-history', 'histogram-history', 'underpants-heartbeat']) {
      const result = await cli('config', 'set', option, 'soon');
      expect(result.code, option).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error: ${option} must be a number of [a-z ]+, such as \\d+; got soon\\n$`));
    }
    // A heartbeat of 0 or less is a number, but every lock would expire at once (each job run twice).
    for (const [option, value] of [['heartbeat', '0'], ['underpants-heartbeat', '0.0']] as const) {
      const result = await cli('config', 'set', option, value);
      expect(result.code, option).toBe(2);
      expect(result.stderr).toBe(`error: ${option} must be more than 0 seconds, got ${value}: every lock would expire at once, and another worker would take each job while it still runs\n`);
    }
    expect(() => checkOperatorValue('underpants-heartbeat', -10)).toThrow('underpants-heartbeat must be more than 0 seconds, got -10');
    expect(() => checkOperatorValue('underpants-heartbeat', 0.5)).not.toThrow();
    expect(await snapshot(ctx.redis)).toEqual(before);
    expect((await client.queue('underpants').pop())?.jid).toBe('pair-1');
    expect((await cli('config', 'set', 'heartbeat', '90')).stdout).toBe('heartbeat = 90\n');
    const help = await cli('config', 'set', '--help');
    expect(help.stdout).toContain('Options the core reads as numbers refuse anything else (exit 2): heartbeat, grace-period');
  });

  it('refuses an unknown option name (exit 1, nothing stored), suggesting the likely one; --force stores it with a warning', async () => {
    const refused = await cli('config', 'set', 'hearbeat', '30');
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toBe('error: hearbeat is not an option the core reads; did you mean heartbeat? Nothing was stored (--force stores it anyway)\n');
    expect(await make().config.get('hearbeat')).toBeNull();
    const typo = await cli('config', 'set', 'hearbeat', '30', '--force');
    expect(typo.code).toBe(0);
    expect(typo.stdout).toBe('hearbeat = 30\n');
    expect(typo.stderr).toBe('warning: hearbeat is not an option the core reads. Did you mean heartbeat? It was stored anyway, since other qless clients may keep options of their own.\n');
    expect(await make().config.get('hearbeat')).toBe(30);
    const json = await cli('config', 'set', 'emails-heartbeet', '5', '--json', '--force');
    expect(JSON.parse(json.stdout)).toEqual({ option: 'emails-heartbeet', value: 5, warning: expect.stringContaining('Did you mean emails-heartbeat?') });
    expect(json.stderr).toContain('warning: emails-heartbeet is not an option the core reads.');
    const known = await cli('config', 'set', 'emails-heartbeat', '5');
    expect(known.stderr).toBe('');
  });
});

describe('put', () => {
  it('refuses a reserved jid and the empty queue name (exit 2), writing nothing', async () => {
    await make().queue('reports').put('r.Report', {}, { jid: 'report' });
    const before = await snapshot(ctx.redis);
    const reserved = await cli('put', 'reports', 'r.Report', '--jid', 'report-dependents');
    expect(reserved.code).toBe(2);
    expect(reserved.stderr).toBe('error: jid report-dependents ends in "-dependents", an ending qless keeps for its own keys (ql:j:<jid>-dependents); choose another jid\n');
    const empty = await cli('put', '', 'r.Report');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('error: queue name must be a non-empty string, got an empty string\n');
    expect(await snapshot(ctx.redis)).toEqual(before);
    // The sequence now ends cleanly: no phantom job.
    expect(await runJson(cli, 'put', 'reports', 'r.Summary', '--jid', 'summary', '--depends', 'report')).toEqual({ jid: 'summary' });
  });

  it('bulk: a reserved jid or an empty queue on any line is reported before anything is written', async () => {
    const path = join(dir, 'jobs.ndjson');
    const lines = [
      { queue: 'reports', klass: 'r.Report', options: { jid: 'report' } },
      { queue: 'reports', klass: 'r.Report', options: { jid: 'fine' } },
      { queue: 'reports', klass: 'r.Report', options: { jid: 'report-history' } },
    ];
    writeFileSync(path, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const reserved = await cli('put', '--file', path);
    expect(reserved.code).toBe(2);
    expect(reserved.stderr).toBe(`error: ${path}:3: options.jid report-history ends in "-history", an ending qless keeps for its own keys (ql:j:<jid>-history); choose another jid; nothing was written\n`);
    writeFileSync(path, [JSON.stringify(lines[0]), JSON.stringify({ queue: '', klass: 'r.Report' })].join('\n') + '\n');
    const empty = await cli('put', '--file', path);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(`error: ${path}:2: queue must be a non-empty string, got an empty string; nothing was written\n`);
    expect(await ctx.redis.keys('*')).toEqual([]);
  });
});

describe('data another client stored that is not an object', () => {
  it('get shows it as stored, for a job and a recurring job', async () => {
    const client = make();
    await client.call('put', 'py-worker', 'q', 'from-python', 'k.K', '[1, 2]', 0);
    await client.call('recur', 'q', 'tpl', 'k.K', '"text"', 'interval', 60, 0);
    const job = await cli('get', 'from-python');
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toContain('data\n  [\n    1,\n    2\n  ]\nhistory');
    expect(JSON.parse((await cli('get', 'from-python', '--json')).stdout).data).toEqual([1, 2]);
    const template = await cli('get', 'tpl');
    expect(template.code, template.stderr).toBe(0);
    expect(template.stdout).toContain('data\n  "text"\n');
  });
});

