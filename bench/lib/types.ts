/**
 * The shapes shared by the benchmark's harness and the two systems it runs.
 */
import type { Redis } from 'ioredis';
import type { WindowOpener, WindowResult } from './window.js';

/** A throughput workload's outcome: what was done in the window and what Redis spent. */
export interface Throughput {
  kind: 'throughput';
  /** Jobs handled inside the window. */
  jobs: number;
  window: WindowResult;
}

/** A latency workload's outcome: put → job method start, in milliseconds. */
export interface Latency {
  kind: 'latency';
  samples: number[];
}

/**
 * A memory workload's outcome: Redis `used_memory` growth per job, on a
 * fresh server, once the jobs wait and once they are completed and kept.
 */
export interface Memory {
  kind: 'memory';
  jobs: number;
  waitingBytesPerJob: number;
  completedBytesPerJob: number;
  /** The settings that bound how many completed jobs are kept, as a sentence. */
  retention: string;
}

export type Measurement = Throughput | Latency | Memory;

/** Everything a workload needs from the harness. */
export interface BenchContext {
  /** URL of the private Redis. */
  url: string;
  host: string;
  port: number;
  /** The harness's own connection (window statistics, polling). */
  stats: Redis;
  /** Open the measurement window (Redis, client and daemon CPU); workloads open one each. */
  openWindow: WindowOpener;
  /** Jobs per run of W1–W4. */
  n: number;
  /** Jobs the W5 daemons work through. */
  daemonJobs: number;
  /** Measured samples of L (after a few unmeasured warm-up ones). */
  latencySamples: number;
  /** Jobs put for the memory figures of M. */
  memoryJobs: number;
  /**
   * Called by M once the jobs wait and once they are completed, with the
   * used_memory growth since the baseline: bench/memory-keys.ts looks at
   * the keys then. Absent in the benchmark.
   */
  memoryProbe?: (stage: 'waiting' | 'completed', bytes: number) => Promise<void>;
  /** Report progress: `done` of `total` jobs. Cheap to call often. */
  progress(done: number, total: number): void;
}

/** The workloads, as the issue defines them. */
export const WORKLOADS = ['W1', 'W2', 'W3', 'W4', 'W5', 'L', 'M'] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

export const WORKLOAD_TITLES: Record<WorkloadId, string> = {
  W1: 'W1 put, one at a time',
  W2: 'W2 put, 50 in flight',
  W3: 'W3 pop + complete, one at a time',
  W4: 'W4 drain, 50 at a time',
  W5: 'W5 worker daemons, 2 processes',
  L: 'L put → job start, idle worker',
  M: 'M Redis memory, jobs put 50 in flight',
};

/** One system under test: qless-ts or BullMQ. */
export interface System {
  readonly name: string;
  /** Why W5/L cannot run (e.g. the worker daemon is missing), or undefined when they can. */
  readonly daemonsMissing: string | undefined;
  /** Run one workload; M is given a context on a fresh server of its own. */
  run(workload: WorkloadId, ctx: BenchContext): Promise<Measurement>;
}

/** The small JSON payload both systems carry. */
export function payload(i: number): { i: number } {
  return { i };
}

/**
 * Milliseconds of the machine's monotonic clock (CLOCK_MONOTONIC, which
 * every process on the machine shares), with sub-millisecond precision. Put
 * and start times of L are taken in different processes: the wall clock
 * would do too, but it can be stepped mid-run (NTP), which made samples
 * negative; each process's `performance.timeOrigin` is fixed when it starts,
 * so a step in between is counted as latency.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Run `count` tasks with at most `lanes` in flight. */
export async function inFlight(count: number, lanes: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
}
