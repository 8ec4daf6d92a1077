/**
 * qless-ts under the benchmark: the client library for W1–W4 (with the batch
 * forms it offers: pop with a count, completions pipelined together with
 * the next pop), the worker daemon (bin/qless-ts-worker.js) for W5 and L,
 * and for M puts 50 in flight and the W4 loops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import * as qless from '../../src/index.js';
import { DEFAULT_KEYS } from '../../src/keys.js';
import { measureMemory } from '../lib/memory.js';
import { STAGE_MARKS_ON } from '../lib/stage-marks.js';
import { inFlight, payload, sleep, type BenchContext, type Measurement, type System, type WorkloadId } from '../lib/types.js';
import type { WindowResult } from '../lib/window.js';
import { sampleLatency, stopProcess, watchCompletions } from './daemons.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const WORKER_BIN = join(ROOT, 'bin', 'qless-ts-worker.js');
const WORKER_BUILT = join(ROOT, 'dist', 'cli', 'worker.js');
const JOBS_DIR = join(ROOT, 'bench', 'jobs');
const QUEUE = 'bench';
const LATENCY_QUEUE = 'latency';
const KLASS = 'bench.Noop';
const STAGE_MARKS_INSTALL = join(ROOT, 'bench', 'lib', 'stage-marks-install.ts');

async function open(ctx: BenchContext): Promise<qless.Client> {
  const client = qless.client(ctx.url, { workerName: 'bench-worker' });
  // Load the core (FUNCTION LOAD) before any window opens.
  await client.config.get('heartbeat');
  return client;
}

/** Put `count` jobs quickly, outside any window. */
async function fill(client: qless.Client, queue: string, count: number, klass = KLASS): Promise<void> {
  const q = client.queue(queue);
  await inFlight(count, 200, (i) => q.put(klass, payload(i)));
}

function throughput(jobs: number, window: WindowResult): Measurement {
  return { kind: 'throughput', jobs, window };
}

async function putOneAtATime(ctx: BenchContext): Promise<Measurement> {
  const client = await open(ctx);
  const queue = client.queue(QUEUE);
  const window = await ctx.openWindow();
  for (let i = 0; i < ctx.n; i++) {
    await queue.put(KLASS, payload(i));
    ctx.progress(i + 1, ctx.n);
  }
  const result = await window.close();
  await client.close();
  return throughput(ctx.n, result);
}

async function putInFlight(ctx: BenchContext): Promise<Measurement> {
  const client = await open(ctx);
  const queue = client.queue(QUEUE);
  let done = 0;
  const window = await ctx.openWindow();
  await inFlight(ctx.n, 50, async (i) => {
    await queue.put(KLASS, payload(i));
    ctx.progress(++done, ctx.n);
  });
  const result = await window.close();
  await client.close();
  return throughput(ctx.n, result);
}

/**
 * Work through `total` queued jobs with `lanes` loops, each holding up to
 * `batch` jobs: pop a batch, then complete it and pop the next one in one
 * round trip, until the queue is empty. W3 is one loop of one job; W4 is
 * two loops of 25 (50 jobs held at a time, like BullMQ's 50 concurrent
 * jobs), so that the client works on one batch while Redis works on the
 * other.
 */
async function workThrough(client: qless.Client, queueName: string, total: number, batch: number, lanes: number, progress: BenchContext['progress']): Promise<void> {
  const queue = client.queue(queueName);
  let done = 0;
  const lane = async (): Promise<void> => {
    let jobs = await queue.pop(batch);
    while (jobs.length > 0) {
      const next = await queue.completeAndPop(jobs, batch);
      for (const outcome of next.completed) {
        if (!outcome.ok) throw outcome.error;
      }
      done += jobs.length;
      progress(done, total);
      jobs = next.jobs;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  if (done !== total) throw new Error(`qless-ts completed ${done} jobs, expected ${total}`);
}

async function drain(ctx: BenchContext, batch: number, lanes: number): Promise<Measurement> {
  const client = await open(ctx);
  await fill(client, QUEUE, ctx.n);
  const window = await ctx.openWindow();
  await workThrough(client, QUEUE, ctx.n, batch, lanes, ctx.progress);
  const result = await window.close();
  await client.close();
  return throughput(ctx.n, result);
}

/**
 * M: the retention that bounds completed jobs is the core's, read back from
 * its config. `layout` is the core's job-layout option (README,
 * "Configuration"): set before the first job, so every job is stored so.
 */
async function memory(ctx: BenchContext, layout: JobLayout): Promise<Measurement> {
  const client = await open(ctx);
  if (layout === 'compact') await client.config.set('job-layout', 'compact');
  const queue = client.queue(QUEUE);
  return measureMemory(ctx, {
    warm: async () => {
      await client.queue('warm').put(KLASS, payload(0));
      await workThrough(client, 'warm', 1, 1, 1, () => undefined);
    },
    put: (count) => inFlight(count, 50, (i) => queue.put(KLASS, payload(i))),
    drain: (count) => workThrough(client, QUEUE, count, 25, 2, () => undefined),
    retention: async () => {
      const age = await client.config.get('jobs-history');
      const count = await client.config.get('jobs-history-count');
      return `qless-ts keeps completed jobs for jobs-history = ${String(age)} s, at most jobs-history-count = ${String(count)} (the core's defaults)`;
    },
    close: () => client.close(),
  });
}

function startDaemon(ctx: BenchContext, queue: string, workers: number, workdir: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      WORKER_BIN, '--host', ctx.url, '--queue', queue, '--workers', String(workers), '--path', JOBS_DIR, '--interval', '60', '--workdir', workdir,
      // Stage marks (bench/lib/stage-marks.ts) from the children's start.
      ...(STAGE_MARKS_ON ? ['--import', STAGE_MARKS_INSTALL] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, QLESS_REDIS_URL: ctx.url } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) {
      process.stderr.write(`\nqless-ts-worker exited with code ${code}: ${stderr}\n`);
    }
  });
  return child;
}

async function daemons(ctx: BenchContext): Promise<Measurement> {
  const client = await open(ctx);
  await fill(client, QUEUE, ctx.daemonJobs);
  await client.close();
  const workdir = mkdtempSync(join(tmpdir(), 'qless-ts-bench-'));
  const child = startDaemon(ctx, QUEUE, 2, workdir);
  try {
    const { jobs, window } = await watchCompletions(ctx, DEFAULT_KEYS.completed, ctx.daemonJobs, [child.pid!], () => child.exitCode !== null);
    return { kind: 'throughput', jobs, window };
  } finally {
    await stopProcess(child);
    rmSync(workdir, { recursive: true, force: true });
  }
}

async function latency(ctx: BenchContext): Promise<Measurement> {
  const client = await open(ctx);
  const queue = client.queue(LATENCY_QUEUE);
  const blocking = new Redis(ctx.url);
  const workdir = mkdtempSync(join(tmpdir(), 'qless-ts-bench-'));
  const child = startDaemon(ctx, LATENCY_QUEUE, 1, workdir);
  let samples: number[];
  try {
    // Ready once its child has popped (and found nothing): it now sleeps for
    // the 60 s interval, to be woken by the put announcement.
    for (let i = 0; (await ctx.stats.zcard(DEFAULT_KEYS.workers)) === 0; i++) {
      if (child.exitCode !== null || i > 600) throw new Error('qless-ts-worker did not start');
      await sleep(50);
    }
    samples = await sampleLatency(ctx, blocking, 'qless-ts-worker', (data) => queue.put('bench.Latency', data));
  } finally {
    await stopProcess(child);
    rmSync(workdir, { recursive: true, force: true });
    blocking.disconnect();
    await client.close();
  }
  return { kind: 'latency', samples };
}

/** How the core stores jobs: today's layout, or the opt-in compact one. */
export type JobLayout = 'spec' | 'compact';

export class QlessSystem implements System {
  readonly name: string;

  /** `compact`: M measures jobs stored in the compact layout (the other workloads are the same). */
  constructor(private readonly layout: JobLayout = 'spec') {
    this.name = layout === 'spec' ? 'qless-ts' : 'qless-ts compact';
  }

  get daemonsMissing(): string | undefined {
    if (!existsSync(WORKER_BIN)) return `${WORKER_BIN} is missing`;
    if (!existsSync(WORKER_BUILT)) return `${WORKER_BUILT} is missing (npm run build)`;
    return undefined;
  }

  run(workload: WorkloadId, ctx: BenchContext): Promise<Measurement> {
    switch (workload) {
      case 'W1':
        return putOneAtATime(ctx);
      case 'W2':
        return putInFlight(ctx);
      case 'W3':
        return drain(ctx, 1, 1);
      case 'W4':
        return drain(ctx, 25, 2);
      case 'W5':
        return daemons(ctx);
      case 'L':
        return latency(ctx);
      case 'M':
        return memory(ctx, this.layout);
    }
  }
}
