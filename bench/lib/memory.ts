/**
 * Workload M, the same way for both systems: on a fresh server, Redis
 * `used_memory` is read after one job has gone through its whole life on
 * another queue (so every script is loaded and the fixed keys exist), after
 * `memoryJobs` jobs are put 50 at a time, and after all of them are popped
 * and completed. The growth per job is what a waiting job and a completed
 * job kept for inspection cost Redis.
 */
import type { Redis } from 'ioredis';
import type { BenchContext, Memory } from './types.js';

/** What one system does for M. */
export interface MemorySteps {
  /** Put, pop and complete one job on a queue of its own. */
  warm(): Promise<void>;
  /** Put `count` jobs of the benchmark's payload with 50 in flight. */
  put(count: number): Promise<void>;
  /** Pop and complete `count` jobs. */
  drain(count: number): Promise<void>;
  /** The settings that bound how many completed jobs are kept, as a sentence. */
  retention(): Promise<string>;
  close(): Promise<void>;
}

/** Redis `used_memory`: bytes the allocator holds for the server (data, buffers, script caches). */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory did not report used_memory');
  return Number(match[1]);
}

export async function measureMemory(ctx: BenchContext, steps: MemorySteps): Promise<Memory> {
  try {
    await steps.warm();
    const base = await usedMemory(ctx.stats);
    await steps.put(ctx.memoryJobs);
    ctx.progress(ctx.memoryJobs / 2, ctx.memoryJobs);
    const waiting = await usedMemory(ctx.stats);
    await ctx.memoryProbe?.('waiting', waiting - base);
    await steps.drain(ctx.memoryJobs);
    const completed = await usedMemory(ctx.stats);
    await ctx.memoryProbe?.('completed', completed - base);
    return {
      kind: 'memory',
      jobs: ctx.memoryJobs,
      waitingBytesPerJob: (waiting - base) / ctx.memoryJobs,
      completedBytesPerJob: (completed - base) / ctx.memoryJobs,
      retention: await steps.retention(),
    };
  } finally {
    await steps.close();
  }
}
