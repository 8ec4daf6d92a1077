/**
 * Observability of a real worker daemon: one run of jobs that complete,
 * fail, retry and time out leaves the matching log lines (one per finished
 * job, job output tagged with its jid, in the --logger file too), hook
 * calls (middleware and listeners in the child, listeners in the
 * supervisor over IPC) and /metrics counters, scraped over HTTP and parsed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { parseMetrics } from './support/metrics.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, ROOT, until, useWorkers, type LogLine } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseMetrics(await res.text());
}

interface HookRecord {
  role: 'child' | 'supervisor';
  event: string;
  jid: string;
  attempt?: number;
  durationMs?: number;
  group?: string;
  delay?: number;
  error?: string;
  ok?: boolean;
}

describe('qless-ts-worker logs, hooks and metrics', { timeout: 90_000 }, () => {
  it('a run of jobs that complete, fail, retry and time out shows in all three', async () => {
    const client = qless.client(ctx.url);
    const queue = client.queue('obs');
    const talk = await queue.put('observe.Talk', {});
    const boom = await queue.put('observe.Boom', {});
    const flaky = await queue.put('observe.Flaky', {});
    const slow = await queue.put('observe.Slow', {});
    const dir = workers.tmp();
    const logFile = join(dir, 'worker.log');
    const hooksFile = join(dir, 'hooks.jsonl');
    const worker = workers.start(
      ['--host', ctx.url, '-p', FIXTURES, '-q', 'obs', '-w', '1', '-c', '4', '-i', '0.2', '--timeout', '2', '--verbose',
        '--metrics-port', '0', '--logger', logFile, '--import', join(ROOT, 'test', 'fixtures', 'preload', 'hooks.mjs')],
      { env: { QLESS_TEST_HOOKS_FILE: hooksFile } },
    );
    const served = await worker.waitFor('serving metrics');
    const url = String(served['url']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    const done = (jid: string, state: string) => async () => (await client.jobs.get(jid))?.state === state;
    await until(done(talk, 'complete'), 30_000, 'Talk to complete');
    await until(done(boom, 'failed'), 30_000, 'Boom to fail');
    await until(done(flaky, 'complete'), 30_000, 'Flaky to complete on its third attempt');
    await until(done(slow, 'failed'), 30_000, 'Slow to time out');
    await worker.waitFor('job timed out', (l) => l.jid === slow && l.role === 'child');

    // Logs: one info line per finished run, with the outcome and the job's fields.
    const finished = (jid: string): LogLine[] => worker.logs.filter((l) => l.jid === jid && l.role === 'child' && typeof l['outcome'] === 'string');
    // A run's line follows the core's reply, so it may reach this process after the job's new state.
    await until(() => [talk, boom, slow].every((jid) => finished(jid).length === 1) && finished(flaky).length === 3, 10_000, 'every run\'s line');
    const only = (jid: string): LogLine => {
      const lines = finished(jid);
      expect(lines).toHaveLength(1);
      return lines[0]!;
    };
    expect(only(talk)).toMatchObject({ level: 30, msg: 'job completed', outcome: 'complete', klass: 'observe.Talk', queue: 'obs', attempt: 1, worker: expect.stringMatching(/-\d+$/) });
    expect(only(boom)).toMatchObject({ level: 30, msg: 'job failed', outcome: 'fail', group: 'obs-Error', attempt: 1, err: { message: 'boom' } });
    expect(only(slow)).toMatchObject({ level: 30, msg: 'job timed out', outcome: 'timeout', klass: 'observe.Slow' });
    expect(Number(only(talk)['ms'])).toBeGreaterThanOrEqual(0);
    const flakyLines = finished(flaky);
    expect(flakyLines.map((l) => [l.msg, l['attempt']])).toEqual([['job retried', 1], ['job retried', 2], ['job completed', 3]]);
    expect(flakyLines[0]).toMatchObject({ group: 'obs-FlakyError', error: 'attempt 1 failed' });
    // No line has a key twice (pino would write both), debug lines included.
    expect(worker.lines('job started', (l) => l.jid === talk)).toHaveLength(1);
    for (const raw of worker.stdout.split('\n').filter((l) => l.startsWith('{'))) {
      const keys = [...raw.matchAll(/[{,]"([^"]+)":/g)].filter((m) => !raw.slice(0, m.index).includes('"err":{')).map((m) => m[1]);
      expect(new Set(keys).size, raw).toBe(keys.length);
    }

    // The job's output: whole lines tagged with its jid, in the log file too.
    const fileLines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);
    for (const lines of [worker.logs, fileLines]) {
      const said = lines.filter((l) => l.jid === talk && l['stream'] !== undefined).map((l) => [l['stream'], l.msg, l.level]);
      expect(said).toEqual([
        ['stdout', `hello from ${talk}`, 30],
        ['stdout', `first half, second half of ${talk}`, 30],
        ['stderr', `a warning from ${talk}`, 40],
      ]);
    }
    expect(worker.stdout).not.toMatch(/^hello from/m);

    // Hooks: middleware and listeners in the child, listeners in the supervisor.
    // Every run's end: 4 jobs and 2 retries, in the child and in the supervisor.
    const ends = (): number => readFileSync(hooksFile, 'utf8').split('\n').filter((l) => /"job:(complete|fail|retry|timeout)"/.test(l)).length;
    await until(() => ends() === 12, 10_000, () => `both processes to hear of every run's end (${ends()} of 12)`);
    const records = readFileSync(hooksFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HookRecord);
    const seen = (role: string, jid: string): string[] => records.filter((r) => r.role === role && r.jid === jid && !r.event.startsWith('around')).map((r) => r.event);
    for (const role of ['child', 'supervisor']) {
      expect(seen(role, talk)).toEqual(role === 'child' ? ['job:start', 'job:complete'] : ['job:start', 'job:complete']);
      expect(seen(role, boom)).toEqual(['job:start', 'job:fail']);
      expect(seen(role, flaky)).toEqual(['job:start', 'job:retry', 'job:start', 'job:retry', 'job:start', 'job:complete']);
      expect(seen(role, slow)).toEqual(['job:start', 'job:timeout']);
      const fail = records.find((r) => r.role === role && r.jid === boom && r.event === 'job:fail')!;
      expect(fail).toMatchObject({ group: 'obs-Error', error: 'Error', attempt: 1 });
      const retries = records.filter((r) => r.role === role && r.jid === flaky && r.event === 'job:retry');
      expect(retries.map((r) => [r.attempt, r.group, r.error])).toEqual([[1, 'obs-FlakyError', 'FlakyError'], [2, 'obs-FlakyError', 'FlakyError']]);
      expect(retries[1]!.delay!).toBeGreaterThanOrEqual(retries[0]!.delay!);
    }
    const around = records.filter((r) => r.event.startsWith('around') && r.jid === flaky).map((r) => [r.event, r.ok ?? r.attempt]);
    expect(around).toEqual([['around:before', 1], ['around:after', false], ['around:before', 2], ['around:after', false], ['around:before', 3], ['around:after', true]]);

    // Metrics, aggregated in the supervisor.
    const metrics = await scrape(url);
    const jobs = (klass: string, outcome: string): number | undefined => metrics.get(`qless_worker_jobs_total{klass="observe.${klass}",outcome="${outcome}",queue="obs"}`);
    expect(jobs('Talk', 'complete')).toBe(1);
    expect(jobs('Boom', 'fail')).toBe(1);
    expect(jobs('Flaky', 'retry')).toBe(2);
    expect(jobs('Flaky', 'complete')).toBe(1);
    expect(jobs('Slow', 'timeout')).toBe(1);
    expect(metrics.get('qless_worker_job_duration_seconds_count{klass="observe.Flaky",queue="obs"}')).toBe(3);
    expect(metrics.get('qless_worker_job_duration_seconds_bucket{klass="observe.Talk",le="+Inf",queue="obs"}')).toBe(1);
    expect(metrics.get('qless_worker_children')).toBe(1);
    expect(metrics.get('qless_worker_redis_up')).toBe(1);
    expect(metrics.get('qless_worker_reloads_total')).toBe(0);
    expect(metrics.has('process_cpu_user_seconds_total')).toBe(true);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    await client.close();
  });

  it('counts a child that dies, and the job it held as lost', async () => {
    const client = qless.client(ctx.url);
    await client.queue('crash').put('timing.Crash', {}, { retries: 0 });
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'crash', '-w', '1', '-i', '0.2', '--metrics-port', '0']);
    const url = String((await worker.waitFor('serving metrics'))['url']);
    await worker.waitFor('child died; replacing it');
    let metrics = new Map<string, number>();
    await until(async () => {
      metrics = await scrape(url);
      return (metrics.get('qless_worker_child_restarts_total{reason="died"}') ?? 0) >= 1;
    }, 10_000, 'the restart to be counted');
    expect(metrics.get('qless_worker_jobs_total{klass="timing.Crash",outcome="lost",queue="crash"}')).toBeGreaterThanOrEqual(1);
    await client.close();
  });

  it('counts a reload when a job module changes, and the child it recycled', async () => {
    const dir = join(workers.tmp(), 'jobs');
    mkdirSync(dir);
    const write = (text: string): void => {
      writeFileSync(join(dir, 'edit.mjs.tmp'), text);
      renameSync(join(dir, 'edit.mjs.tmp'), join(dir, 'edit.mjs'));
    };
    write('export class Me { static process(job) { job.data.v = 1; } }\n');
    const client = qless.client(ctx.url);
    const first = await client.queue('edit').put('edit.Me', {});
    const worker = workers.start(['--host', ctx.url, '-p', dir, '-q', 'edit', '-w', '1', '-i', '0.2', '--metrics-port', '0']);
    const url = String((await worker.waitFor('serving metrics'))['url']);
    await until(async () => (await client.jobs.get(first))?.state === 'complete', 30_000, 'the first job');
    write('export class Me { static process(job) { job.data.v = 2; } }\n');
    await worker.waitFor('child recycled; starting a fresh one');
    const metrics = await scrape(url);
    expect(metrics.get('qless_worker_reloads_total')).toBe(1);
    expect(metrics.get('qless_worker_child_restarts_total{reason="recycled"}')).toBe(1);
    expect(metrics.get('qless_worker_jobs_total{klass="edit.Me",outcome="complete",queue="edit"}')).toBe(1);
    await client.close();
  });

  it('--log-format pretty writes readable lines; --log-level warn leaves out the info lines', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('pretty').put('observe.Talk', {});
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'pretty', '-w', '1', '-i', '0.2', '--log-format', 'pretty']);
    await until(async () => (await client.jobs.get(jid))?.state === 'complete', 30_000, 'the job to complete');
    await until(() => worker.stdout.includes('job completed'), 10_000, 'the pretty line');
    expect(worker.stdout).toMatch(new RegExp(`INFO.*job completed`));
    expect(worker.stdout).toContain(`"jid":"${jid}"`);
    expect(worker.logs).toEqual([]); // no JSON lines

    const quiet = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'quiet', '-w', '1', '-i', '0.2', '--log-level', 'warn']);
    const second = await client.queue('quiet').put('observe.Talk', {});
    await until(async () => (await client.jobs.get(second))?.state === 'complete', 30_000, 'the second job to complete');
    await until(() => quiet.logs.some((l) => l['stream'] === 'stderr'), 10_000, 'the job\'s stderr line');
    expect(quiet.logs.every((l) => l.level >= 40)).toBe(true);
    await client.close();
  });

  it('refuses a bad --log-format, --log-level or --metrics-port with a usage error', async () => {
    for (const args of [['--log-format', 'xml'], ['--log-level', 'loud'], ['--metrics-port', 'x'], ['--metrics-bind', '0.0.0.0'], ['--retry-backoff', 'linear'], ['--retry-delay', '3']]) {
      const worker = workers.start(['--host', ctx.url, '-q', 'q', ...args]);
      const exit = await worker.waitExit();
      expect(exit.code, args.join(' ')).toBe(2);
      expect(worker.stderr).toMatch(new RegExp(`qless-ts-worker: ${args[0]}`));
    }
  });
});
