/**
 * The context a workload runs in, built the same way by the benchmark and by
 * the client profiler: a Redis to run on, the harness's own connection to
 * it, the window opener and the sizes.
 */
import type { Redis } from 'ioredis';
import type { BenchContext } from './types.js';
import { windowOpener, type WindowHooks } from './window.js';

export interface Sizes {
  n: number;
  daemonJobs: number;
  latencySamples: number;
  memoryJobs: number;
}

export function benchContext(
  server: { url: string; port: number },
  stats: Redis,
  sizes: Sizes,
  progress: BenchContext['progress'] = () => undefined,
  hooks: WindowHooks = {},
): BenchContext {
  return {
    url: server.url,
    host: '127.0.0.1',
    port: server.port,
    stats,
    openWindow: windowOpener(stats, hooks),
    ...sizes,
    progress,
  };
}
