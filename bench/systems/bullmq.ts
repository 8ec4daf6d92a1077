/**
 * BullMQ under the benchmark, used the way its documentation recommends:
 * Queue.add for puts, a Worker (which completes a job and fetches the next
 * one in one script call) for W3 (concurrency 1) and W4 (concurrency 50),
 * two processes running a Worker with its default concurrency for W5, and
 * one such process for L. Jobs keep BullMQ's defaults (completed jobs are
 * kept, as qless keeps them); M puts with Queue.add, 50 in flight, and
 * completes with a Worker of concurrency 50.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { measureMemory } from '../lib/memory.js';
import { inFlight, payload, type BenchContext, type Measurement, type System, type WorkloadId } from '../lib/types.js';
import { sampleLatency, stopProcess, watchCompletions } from './daemons.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHILD = join(ROOT, 'bench', 'bullmq-worker.ts');
const QUEUE = 'bench';
const LATENCY_QUEUE = 'latency';

function connection(ctx: BenchContext): { host: string; port: number } {
  return { host: ctx.host, port: ctx.port };
}

async function openQueue(ctx: BenchContext, name = QUEUE): Promise<Queue> {
  const queue = new Queue(name, { connection: connection(ctx) });
  await queue.waitUntilReady();
  // Loads the script Queue.add uses before any window opens.
  await queue.getJobCounts();
  return queue;
}

async function fill(queue: Queue, count: number): Promise<void> {
  for (let first = 0; first < count; first += 500) {
    const jobs = [];
    for (let i = first; i < Math.min(count, first + 500); i++) jobs.push({ name: 'noop', data: payload(i) });
    await queue.addBulk(jobs);
  }
}

async function putOneAtATime(ctx: BenchContext): Promise<Measurement> {
  const queue = await openQueue(ctx);
  const window = await ctx.openWindow();
  for (let i = 0; i < ctx.n; i++) {
    await queue.add('noop', payload(i));
    ctx.progress(i + 1, ctx.n);
  }
  const result = await window.close();
  await queue.close();
  return { kind: 'throughput', jobs: ctx.n, window: result };
}

async function putInFlight(ctx: BenchContext): Promise<Measurement> {
  const queue = await openQueue(ctx);
  let done = 0;
  const window = await ctx.openWindow();
  await inFlight(ctx.n, 50, async (i) => {
    await queue.add('noop', payload(i));
    ctx.progress(++done, ctx.n);
  });
  const result = await window.close();
  await queue.close();
  return { kind: 'throughput', jobs: ctx.n, window: result };
}

/** A Worker connected and ready to complete `total` jobs of `queueName`; nothing runs until `work()`. */
async function readyWorker(
  ctx: BenchContext,
  queueName: string,
  total: number,
  concurrency: number,
  progress: BenchContext['progress'],
): Promise<{ work(): Promise<number>; close(): Promise<void> }> {
  const worker = new Worker(queueName, async () => undefined, { connection: connection(ctx), concurrency, autorun: false });
  await worker.waitUntilReady();
  let done = 0;
  let failed: Error | undefined;
  const finished = new Promise<void>((resolveAll) => {
    worker.on('completed', () => {
      progress(++done, total);
      if (done === total) resolveAll();
    });
    worker.on('failed', (_job, error) => {
      failed = error;
      resolveAll();
    });
  });
  return {
    work: async () => {
      void worker.run();
      await finished;
      if (failed) throw failed;
      return done;
    },
    close: () => worker.close(),
  };
}

async function drain(ctx: BenchContext, concurrency: number): Promise<Measurement> {
  const queue = await openQueue(ctx);
  await fill(queue, ctx.n);
  const worker = await readyWorker(ctx, QUEUE, ctx.n, concurrency, ctx.progress);
  const window = await ctx.openWindow();
  try {
    const done = await worker.work();
    return { kind: 'throughput', jobs: done, window: await window.close() };
  } finally {
    await worker.close();
    await queue.close();
  }
}

/** Put `count` jobs on `queueName` and complete them with a Worker of `concurrency`. */
async function workThrough(ctx: BenchContext, queueName: string, total: number, concurrency: number): Promise<void> {
  const worker = await readyWorker(ctx, queueName, total, concurrency, () => undefined);
  try {
    await worker.work();
  } finally {
    await worker.close();
  }
}

/** M: jobs keep BullMQ's defaults, under which every completed job is kept. */
async function memory(ctx: BenchContext): Promise<Measurement> {
  const queue = await openQueue(ctx);
  const warm = await openQueue(ctx, 'warm');
  return measureMemory(ctx, {
    warm: async () => {
      await warm.add('noop', payload(0));
      await workThrough(ctx, 'warm', 1, 1);
    },
    put: (count) => inFlight(count, 50, (i) => queue.add('noop', payload(i))),
    drain: (count) => workThrough(ctx, QUEUE, count, 50),
    retention: async () =>
      'BullMQ keeps every completed job: removeOnComplete is not set (its default; { count, age } would bound them), ' +
      'and its events stream is trimmed to about 10,000 entries (streams.events.maxLen default)',
    close: async () => {
      await warm.close();
      await queue.close();
    },
  });
}

function startChild(ctx: BenchContext, queue: string, mode: 'noop' | 'latency'): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ctx.host, String(ctx.port), queue, mode], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = new Promise<void>((resolveReady, reject) => {
    child.once('message', () => resolveReady());
    child.once('exit', (code) => reject(new Error(`bullmq worker process exited with code ${code}`)));
  });
  return { child, ready };
}

async function daemons(ctx: BenchContext): Promise<Measurement> {
  const queue = await openQueue(ctx);
  await fill(queue, ctx.daemonJobs);
  await queue.close();
  const children = [startChild(ctx, QUEUE, 'noop'), startChild(ctx, QUEUE, 'noop')];
  try {
    const died = (): boolean => children.some(({ child }) => child.exitCode !== null);
    const pids = children.map(({ child }) => child.pid!);
    const { jobs, window } = await watchCompletions(ctx, `bull:${QUEUE}:completed`, ctx.daemonJobs, pids, died);
    return { kind: 'throughput', jobs, window };
  } finally {
    await Promise.all(children.map(({ child }) => stopProcess(child)));
  }
}

async function latency(ctx: BenchContext): Promise<Measurement> {
  const queue = await openQueue(ctx, LATENCY_QUEUE);
  const blocking = new Redis(ctx.url);
  const { child, ready } = startChild(ctx, LATENCY_QUEUE, 'latency');
  let samples: number[];
  try {
    await ready;
    samples = await sampleLatency(ctx, blocking, 'the BullMQ worker', (data) => queue.add('latency', data));
  } finally {
    await stopProcess(child);
    blocking.disconnect();
    await queue.close();
  }
  return { kind: 'latency', samples };
}

export class BullMQSystem implements System {
  readonly name = 'BullMQ';
  readonly daemonsMissing = undefined;

  run(workload: WorkloadId, ctx: BenchContext): Promise<Measurement> {
    switch (workload) {
      case 'W1':
        return putOneAtATime(ctx);
      case 'W2':
        return putInFlight(ctx);
      case 'W3':
        return drain(ctx, 1);
      case 'W4':
        return drain(ctx, 50);
      case 'W5':
        return daemons(ctx);
      case 'L':
        return latency(ctx);
      case 'M':
        return memory(ctx);
    }
  }
}
