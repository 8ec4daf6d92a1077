/**
 * Every example in examples/ runs: each one's jobs through a real worker,
 * `examples/put.ts`, and the quickstart (`npm run quickstart`) — against
 * this file's private redis-server, or one the quickstart starts itself.
 * Nothing here may reach port 6379: URLs are always given explicitly, and
 * where none is given the programs must start their own server or refuse.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { EXAMPLES, finished, newRun, workerArgs } from '../examples/examples.js';
import { snapshot } from './support/raw.js';
import { useRedis } from './support/redis.js';
import { ROOT, until, WorkerProcess } from './worker.harness.js';

const ctx = useRedis();

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const EXPECTED: Record<string, (lines: string[]) => void> = {
  gnomes: (lines) => expect(lines).toEqual([
    'Kenny: complete after underpants,unknown,profit, profit 24',
    'Stan: complete after underpants,unknown,profit, profit 24',
    'Eric: complete after underpants,unknown,profit, profit 24',
  ]),
  'gnomes-process': (lines) => expect(lines).toEqual(['Butters: complete after underpants,unknown,profit']),
  omelette: (lines) => expect(lines).toEqual(['omelette: complete with 3 eggs,a pan']),
  recurring: (lines) => expect(lines).toEqual(['sweep-kitchen-1 swept the kitchen', 'sweep-kitchen-2 swept the kitchen']),
  io: (lines) => {
    expect(lines).toHaveLength(1);
    const match = /^20 of 20 fetches done in ([\d.]+) s of wall time/.exec(lines[0]!);
    expect(match, lines[0]).not.toBeNull();
    // Ten at a time: far less than the ten seconds they wait in all.
    expect(Number(match![1])).toBeLessThan(7);
  },
};

/** The quickstart's output as the README's Quickstart section shows it. */
function readmeQuickstart(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quickstart\n'), readme.indexOf("## User's guide\n"));
  const block = /What it prints[^\n]*\n\n```text\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README.md's Quickstart section has no printed output");
  return block[1]!;
}

/** Output with what changes from run to run (port, run name, measured time) replaced. */
function normalised(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/quickstart-[0-9a-f]{8}/g, 'quickstart-<run>')
    .replace(/done in \d+\.\d s/, 'done in <n> s');
}

/** The Redis `ctx` names, with some data of somebody else's in it. */
async function somebodysData(): Promise<void> {
  await ctx.redis.set('kitchen:pantry', 'somebody else\'s');
  await ctx.redis.rpush('chores:swept', 'last week');
  const client = qless.client(ctx.url);
  await client.queue('payroll').put('pay.Run', { month: 5 }, { jid: 'payroll-may' });
  await client.close();
}

describe('examples', () => {
  describe('each example, through one worker', () => {
    let worker: WorkerProcess;
    let workdir: string;
    beforeAll(() => {
      workdir = mkdtempSync(join(tmpdir(), 'qless-examples-'));
      worker = new WorkerProcess(['--host', ctx.url, ...workerArgs(EXAMPLES), '--workers', '1', '--workdir', workdir], { cwd: ROOT });
    });
    afterAll(async () => {
      worker.kill();
      await worker.exited;
      rmSync(workdir, { recursive: true, force: true });
    });

    for (const example of EXAMPLES) {
      it(`${example.name}: ${example.what}`, async () => {
        const client = qless.client(ctx.url);
        const run = newRun();
        const jids = await example.put(client, run);
        await until(() => finished(client, jids), 30_000, `the ${example.name} jobs to finish\n${worker.tail()}`);
        EXPECTED[example.name]!(await example.report(client, jids, run));
        // The keys its jobs wrote are this run's own.
        for (const key of await ctx.redis.keys('*')) if (!key.startsWith('ql:')) expect(run.keys.has(key), key).toBe(true);
        for (const template of example.templates ?? []) await client.call('unrecur', template);
        await client.close();
      });
    }
  });

  it("examples/put.ts puts one example's jobs into the Redis it is given, and only then", async () => {
    const { code, stdout } = await run(['examples/put.ts', 'omelette'], { QLESS_REDIS_URL: ctx.url });
    expect(code).toBe(0);
    expect(stdout).toContain('put 3 job(s) for "omelette"');
    expect(stdout).toContain('npx qless-ts-worker --path examples/jobs -q buy_eggs -q buy_pan -q cook --host $QLESS_REDIS_URL');
    const client = qless.client(ctx.url);
    expect((await client.queue('cook').counts()).depends).toBe(1);
    await client.close();
    const byFlag = await run(['examples/put.ts', 'gnomes', '--redis', ctx.url], { QLESS_REDIS_URL: '' });
    expect(byFlag.code, byFlag.stderr).toBe(0);
    expect(byFlag.stdout).toContain(`--host ${ctx.url}`);
    const usage = await run(['examples/put.ts', 'nope'], { QLESS_REDIS_URL: ctx.url });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('gnomes-process');
    // No Redis named: refused before connecting anywhere.
    const unnamed = await run(['examples/put.ts', 'gnomes'], { QLESS_REDIS_URL: '' });
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('name the Redis to put the jobs into with --redis <url>');
  });

  it('the quickstart starts a private redis-server by default and writes nowhere else', async () => {
    await somebodysData();
    const before = await snapshot(ctx.redis);
    // QLESS_REDIS_URL empty, as on a machine where nobody set it.
    const { code, stdout, stderr } = await run(['examples/quickstart.ts'], { QLESS_REDIS_URL: '' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const started = /^Started a private redis-server at redis:\/\/127\.0\.0\.1:(\d+) for this run/.exec(stdout);
    expect(started, stdout).not.toBeNull();
    expect(Number(started![1])).not.toBe(6379);
    expect(stdout).toContain('Everything ran:');
    expect(stdout).toContain('Kenny: complete after underpants,unknown,profit, profit 24');
    expect(stdout).toContain('omelette: complete with 3 eggs,a pan');
    expect(stdout).toContain('sweep-kitchen-2 swept the kitchen');
    expect(stdout).toMatch(/20 of 20 fetches done in \d+\.\d s of wall time/);
    expect(await snapshot(ctx.redis)).toEqual(before);
    // The README shows this very output (what varies from run to run aside).
    expect(normalised(stdout)).toBe(normalised(readmeQuickstart()));
  }, 90_000);

  it('the quickstart runs on a Redis it is given, and removes everything it created there', async () => {
    await somebodysData();
    const before = await snapshot(ctx.redis);
    const { code, stdout, stderr } = await run(['examples/quickstart.ts', '--redis', ctx.url], { QLESS_REDIS_URL: '' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Using the Redis at ${ctx.url}; everything this run creates there is removed at the end.`);
    expect(stdout).toContain('Everything ran:');
    expect(stdout).toContain('sweep-kitchen-2 swept the kitchen');
    expect(stdout).toContain(`Removed this run's jobs, queues, workers and keys from ${ctx.url}.`);
    // Every key and value as it was: somebody's keys untouched, none of the run's left.
    expect(await snapshot(ctx.redis)).toEqual(before);
    // QLESS_REDIS_URL names it too.
    const again = await run(['examples/quickstart.ts'], { QLESS_REDIS_URL: ctx.url });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Using the Redis at ${ctx.url}`);
    expect(await snapshot(ctx.redis)).toEqual(before);
  }, 120_000);

  it("the quickstart refuses a Redis whose queues its worker would pop, or that does not answer, and writes nothing", async () => {
    await somebodysData();
    const client = qless.client(ctx.url);
    await client.queue('fetch').put('crawler.Fetch', { url: 'https://example.com/' }, { jid: 'real-fetch' });
    await client.close();
    const before = await snapshot(ctx.redis);
    const busy = await run(['examples/quickstart.ts', '--redis', ctx.url], { QLESS_REDIS_URL: '' });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`not using the Redis at ${ctx.url}: it already has the queue(s) fetch, which the quickstart's worker would pop from`);
    expect(await snapshot(ctx.redis)).toEqual(before);
    // A closed port: never 6379.
    const silent = await run(['examples/quickstart.ts', '--redis', 'redis://127.0.0.1:1'], { QLESS_REDIS_URL: '' });
    expect(silent.code).toBe(1);
    expect(silent.stderr).toBe('quickstart: Redis at redis://127.0.0.1:1 is not answering\n');
  }, 60_000);
});
