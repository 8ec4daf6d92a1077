/**
 * Every example in examples/ runs: each one's jobs through a real worker,
 * `examples/put.ts`, and the quickstart (`npm run quickstart`) — against
 * this file's private redis-server, or one the quickstart starts itself.
 * Nothing here may reach port 6379: URLs are always given explicitly.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { EXAMPLES, finished, workerArgs } from '../examples/examples.js';
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
        const jids = await example.put(client);
        await until(() => finished(client, jids), 30_000, `the ${example.name} jobs to finish\n${worker.tail()}`);
        EXPECTED[example.name]!(await example.report(client, jids));
        await example.cleanup?.(client);
        await client.close();
      });
    }
  });

  it('examples/put.ts puts one example\'s jobs and prints the worker command', async () => {
    const { code, stdout } = await run(['examples/put.ts', 'omelette'], { QLESS_REDIS_URL: ctx.url });
    expect(code).toBe(0);
    expect(stdout).toContain('put 3 job(s) for "omelette"');
    expect(stdout).toContain('npx qless-ts-worker --path examples/jobs -q buy_eggs -q buy_pan -q cook --host $QLESS_REDIS_URL');
    const client = qless.client(ctx.url);
    expect((await client.queue('cook').counts()).depends).toBe(1);
    await client.close();
    const usage = await run(['examples/put.ts', 'nope'], { QLESS_REDIS_URL: ctx.url });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('gnomes-process');
  });

  it('the quickstart runs every example on the Redis it is given', async () => {
    const { code, stdout, stderr } = await run(['examples/quickstart.ts'], { QLESS_REDIS_URL: ctx.url });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Using the Redis at ${ctx.url}.`);
    expect(stdout).toContain('Everything ran:');
    expect(stdout).toContain('Kenny: complete after underpants,unknown,profit, profit 24');
    expect(stdout).toContain('omelette: complete with 3 eggs,a pan');
    expect(stdout).toContain('sweep-kitchen-2 swept the kitchen');
    expect(stdout).toMatch(/20 of 20 fetches done/);
    // It cleaned up its recurring job.
    const client = qless.client(ctx.url);
    expect(await client.jobs.get('sweep-kitchen')).toBeNull();
    await client.close();
  }, 90_000);

  it('the quickstart starts a private redis-server when nothing answers at the URL', async () => {
    // A closed port: never 6379.
    const { code, stdout } = await run(['examples/quickstart.ts'], { QLESS_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(stdout).toMatch(/Nothing answers at redis:\/\/127\.0\.0\.1:1: started a private redis-server at redis:\/\/127\.0\.0\.1:\d+ \(stopped at the end\)\./);
    expect(stdout).toContain('Everything ran:');
    expect(code).toBe(0);
  }, 90_000);
});
