/**
 * The benchmark's instruments, on real processes and real Redis servers:
 * CPU of a process tree from /proc, the CPU profile reader on a profile
 * node really wrote, workload M on private servers, and `npm run bench`'s
 * command line end to end on a few jobs (its figures are not checked here:
 * speed is measured with the benchmark, never in tests).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { benchContext } from '../bench/lib/context.js';
import { summarizeProfile, type CpuProfile } from '../bench/lib/cpu-profile.js';
import { ownCpuSeconds, treeCpuSeconds } from '../bench/lib/process-cpu.js';
import type { System } from '../bench/lib/types.js';
import { BullMQSystem } from '../bench/systems/bullmq.js';
import { QlessSystem } from '../bench/systems/qless.js';
import { RedisServer } from '../src/dev/redis-server.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const scratch = mkdtempSync(join(tmpdir(), 'qless-ts-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Busy-loop until this process has used `seconds` of CPU (CPU time, so a loaded machine only makes it slower). */
const BURN = (seconds: number): string => `
  function burnCpu() {
    const start = process.cpuUsage();
    let x = 0;
    for (;;) {
      for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
      const used = process.cpuUsage(start);
      if ((used.user + used.system) / 1e6 >= ${seconds}) return x;
    }
  }
`;

describe('CPU of a process tree', { timeout: 60_000 }, () => {
  it('counts a process and the process it started', async () => {
    const script = join(scratch, 'burner.cjs');
    writeFileSync(
      script,
      `${BURN(0.3)}
      const { fork } = require('node:child_process');
      if (process.argv[2] === 'child') {
        burnCpu();
        process.send('burnt');
        setInterval(() => {}, 1000);
      } else {
        const child = fork(__filename, ['child']);
        child.on('message', () => {
          burnCpu();
          process.send('burnt');
        });
        process.on('SIGTERM', () => { child.kill(); process.exit(0); });
        setInterval(() => {}, 1000);
      }`,
    );
    const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    try {
      await new Promise<void>((done) => parent.once('message', () => done()));
      const seconds = treeCpuSeconds([parent.pid!]);
      // Two processes that each burnt 0.3 s (clock ticks are 10 ms).
      expect(seconds).toBeGreaterThanOrEqual(0.55);
      expect(treeCpuSeconds([999_999_999])).toBe(0);
    } finally {
      await new Promise<void>((done) => {
        parent.once('exit', () => done());
        parent.kill('SIGTERM');
      });
    }
  });

  it('counts this process', () => {
    const before = ownCpuSeconds();
    new Function(`${BURN(0.1)}; return burnCpu();`)();
    expect(ownCpuSeconds() - before).toBeGreaterThanOrEqual(0.1);
  });
});

describe('reading a CPU profile', { timeout: 60_000 }, () => {
  it('finds the function that used the time, inside the window only', async () => {
    const dir = join(scratch, 'profile');
    const script = join(scratch, 'profiled.cjs');
    writeFileSync(script, `${BURN(0.3)}\nburnCpu();\n`);
    await new Promise<void>((done, fail) =>
      execFile(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '500', script], (error) => (error ? fail(error) : done())),
    );
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))!;
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const summary = summarizeProfile(profile, profile.startTime, profile.endTime, 10);
    expect(summary.selfFrames[0]!.name).toMatch(/^burnCpu file:\/\/.*profiled\.cjs:2$/);
    expect(summary.selfFrames[0]!.share).toBeGreaterThan(0.5);
    expect(summary.busyMicrosPerJob * 10).toBeGreaterThan(250_000);
    // The script is no library and no module of ours: its category is its URL.
    expect(summary.categories[0]!.name).toBe(`file://${script}`);
    // An empty window holds no sample; one reaching outside the profile is refused.
    expect(summarizeProfile(profile, profile.endTime, profile.endTime, 1).busyMicrosPerJob).toBe(0);
    expect(() => summarizeProfile(profile, profile.startTime - 10, profile.endTime, 1)).toThrow(/outside the profile/);
  });
});

describe('workload M on a fresh server', { timeout: 120_000 }, () => {
  const measure = async (system: System) => {
    const server = await RedisServer.start();
    const stats = new Redis(server.url);
    try {
      const ctx = benchContext(server, stats, { n: 0, daemonJobs: 0, latencySamples: 0, memoryJobs: 1000 });
      const seen: string[] = [];
      ctx.memoryProbe = async (stage, bytes) => {
        seen.push(stage);
        // The probe runs while the jobs are there.
        if (stage === 'waiting') expect(bytes).toBeGreaterThan(0);
      };
      const measurement = await system.run('M', ctx);
      expect(seen).toEqual(['waiting', 'completed']);
      return measurement;
    } finally {
      stats.disconnect();
      await server.dispose();
    }
  };

  it('measures qless-ts bytes per waiting and per completed job, with the core retention', async () => {
    const m = await measure(new QlessSystem());
    if (m.kind !== 'memory') throw new Error('expected a memory measurement');
    expect(m.jobs).toBe(1000);
    // No job fits in less than a hash key's own overhead.
    expect(m.waitingBytesPerJob).toBeGreaterThan(100);
    expect(m.completedBytesPerJob).toBeGreaterThan(100);
    expect(m.retention).toBe('qless-ts keeps completed jobs for jobs-history = 604800 s, at most jobs-history-count = 50000 (the core\'s defaults)');
  });

  it('measures BullMQ the same way and says which removeOnComplete applies', async () => {
    const m = await measure(new BullMQSystem());
    if (m.kind !== 'memory') throw new Error('expected a memory measurement');
    expect(m.waitingBytesPerJob).toBeGreaterThan(100);
    expect(m.retention).toMatch(/removeOnComplete is not set/);
  });
});

describe('npm run bench, end to end on a few jobs', { timeout: 240_000 }, () => {
  const bench = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((done) => {
      execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, timeout: 200_000 }, (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });

  it('measures both systems run by run and writes every figure with per-run ratios to --json', async () => {
    const json = join(scratch, 'bench.json');
    const result = await bench(['--n', '60', '--runs', '2', '--only', 'W1,W3,M', '--memory-jobs', '300', '--no-warmup', '--json', json]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    for (const run of [1, 2]) {
      expect(result.stderr).toContain(`run ${run}/2 · W1 put, one at a time · qless-ts / BullMQ: jobs/s `);
      expect(result.stderr).toContain(`run ${run}/2 · M Redis memory, jobs put 50 in flight · qless-ts / BullMQ: Redis bytes/job, waiting `);
    }
    expect(result.stdout).toContain('| workload | figure | qless-ts median (min–max) | BullMQ median (min–max) | qless-ts / BullMQ, median of runs (min–max) | each run | better |');
    expect(result.stdout).toContain('Retention of completed jobs in M:');

    const written = JSON.parse(readFileSync(json, 'utf8')) as {
      options: { n: number; runs: number; workloads: string[]; memoryJobs: number };
      runs: Record<string, unknown[]>;
      rows: Array<{ workload: string; figure: string; ratio: { median: number; runs: number[] } }>;
      retention: Record<string, string>;
    };
    expect(written.options).toMatchObject({ n: 60, runs: 2, workloads: ['W1', 'W3', 'M'], memoryJobs: 300 });
    // (M also measures qless-ts with jobs in the compact layout, job-layout = compact.)
    expect(Object.keys(written.runs).sort()).toEqual(['M/BullMQ', 'M/qless-ts', 'M/qless-ts compact', 'W1/BullMQ', 'W1/qless-ts', 'W3/BullMQ', 'W3/qless-ts']);
    expect(written.rows.map((row) => `${row.workload.split(' ')[0]} ${row.figure}`)).toEqual([
      'W1 jobs/s',
      'W1 Redis CPU µs/job',
      'W1 client CPU µs/job',
      'W1 Redis commands/job',
      'W3 jobs/s',
      'W3 Redis CPU µs/job',
      'W3 client CPU µs/job',
      'W3 Redis commands/job',
      'M Redis bytes/job, waiting',
      'M Redis bytes/job, completed and kept',
      'M Redis bytes/job, waiting',
      'M Redis bytes/job, completed and kept',
      'Lifecycle, Redis CPU µs/job',
      'Lifecycle, client CPU µs/job',
    ]);
    expect(written.rows.filter((row) => row.workload.endsWith('qless-ts job-layout = compact'))).toHaveLength(2);
    for (const row of written.rows) {
      expect(row.ratio.runs).toHaveLength(2);
      expect(row.ratio.median).toBeGreaterThan(0);
    }
    expect(Object.keys(written.retention).sort()).toEqual(['BullMQ', 'qless-ts']);
  });

  it('refuses an unknown workload before starting anything', async () => {
    const result = await bench(['--only', 'W1,W9']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown workload W9 (use W1, W2, W3, W4, W5, L, M)');
  });
});
