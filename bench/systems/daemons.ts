/**
 * Watching worker daemons from the outside, the same way for both systems.
 * W5: the window opens at the first completion, so process start-up is not
 * measured, and closes when all jobs are complete; the daemons' CPU (each
 * with the processes it forked) is measured over the same window. The harness polls the
 * completed set's size; those polls are its own commands and are not
 * counted. L: each latency job's method pushes the milliseconds since its
 * put onto `bench:latency`, where the harness waits for it.
 */
import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import { monotonicMs, sleep, type BenchContext } from '../lib/types.js';
import type { WindowResult } from '../lib/window.js';

/**
 * Put latency jobs one at a time (`put` receives the data to send) on an
 * idle daemon, reading each one's put-to-start time from `blocking` (a
 * connection of its own: BLPOP holds it). A few first samples warm up and
 * are dropped.
 */
export async function sampleLatency(
  ctx: BenchContext,
  blocking: Redis,
  who: string,
  put: (data: { sentAt: number }) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  await sleep(500);
  const warmup = 5;
  for (let i = 0; i < ctx.latencySamples + warmup; i++) {
    await sleep(10 + Math.random() * 10);
    await put({ sentAt: monotonicMs() });
    const reply = await blocking.blpop('bench:latency', 10);
    if (!reply) throw new Error(`${who} did not run the latency job within 10 s`);
    if (i >= warmup) samples.push(Number(reply[1]));
    ctx.progress(i + 1, ctx.latencySamples + warmup);
  }
  return samples;
}

export async function watchCompletions(
  ctx: BenchContext,
  completedKey: string,
  total: number,
  daemons: readonly number[],
  died: () => boolean,
): Promise<{ jobs: number; window: WindowResult }> {
  const deadline = Date.now() + 300_000;
  const check = (): void => {
    if (died()) throw new Error('a worker daemon exited before the jobs were done');
    if (Date.now() > deadline) throw new Error(`the worker daemons did not complete ${total} jobs within 5 minutes`);
  };
  while ((await ctx.stats.zcard(completedKey)) === 0) {
    check();
    await sleep(2);
  }
  const window = await ctx.openWindow({ daemons });
  const first = await ctx.stats.zcard(completedKey);
  window.note('zcard');
  let count = first;
  while (count < total) {
    check();
    ctx.progress(count, total);
    await sleep(5);
    count = await ctx.stats.zcard(completedKey);
    window.note('zcard');
  }
  const result = await window.close();
  return { jobs: count - first, window: result };
}

/** Stop a daemon process with SIGTERM, as an operator would; SIGKILL if it has not exited within 15 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
