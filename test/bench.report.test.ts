/**
 * The benchmark's arithmetic: figures from a window, ratios taken within
 * each run's pair, their median and spread, lifecycles, and the table.
 */
import { describe, expect, it } from 'vitest';
import {
  figuresOf,
  lifecycleValues,
  perRunRatios,
  renderTable,
  rowOf,
  runRatios,
  summarize,
  workloadRows,
} from '../bench/lib/report.js';
import type { Measurement } from '../bench/lib/types.js';

function throughput(jobs: number, extra: { daemonCpuSeconds?: number } = {}): Measurement {
  return {
    kind: 'throughput',
    jobs,
    window: {
      seconds: 2,
      cpuSeconds: 0.5,
      clientCpuSeconds: 0.25,
      commands: 9 * jobs,
      stats: new Map([
        ['fcall', { calls: jobs / 25, usec: 1000 }],
        ['hset', { calls: jobs, usec: 500 }],
      ]),
      ...extra,
    },
  };
}

describe('figures of one measurement', () => {
  it('gives rate, Redis and client CPU per job, commands and script calls per job', () => {
    expect(figuresOf(throughput(10_000))).toEqual({
      jobsPerSecond: 5000,
      redisCpuPerJob: 50,
      clientCpuPerJob: 25,
      commandsPerJob: 9,
      scriptCallsPerJob: 0.04,
    });
  });

  it('adds the daemons CPU per job when the window measured daemons', () => {
    expect(figuresOf(throughput(1000, { daemonCpuSeconds: 0.4 }))['daemonCpuPerJob']).toBeCloseTo(400);
  });

  it('takes p50 and p99 of latency samples, and bytes per job of memory', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(figuresOf({ kind: 'latency', samples })).toEqual({ p50: 50, p99: 99 });
    expect(figuresOf({ kind: 'memory', jobs: 10, waitingBytesPerJob: 700, completedBytesPerJob: 800, retention: 'kept' })).toEqual({
      waitingBytesPerJob: 700,
      completedBytesPerJob: 800,
    });
  });
});

describe('ratios taken run by run', () => {
  it('divides each run of qless-ts by the same run of BullMQ, NaN where one is missing', () => {
    expect(perRunRatios([2, 3, 4], [1, 2, NaN])).toEqual([2, 1.5, NaN]);
    expect(perRunRatios([1], [1, 2])).toEqual([1, NaN]);
  });

  it('reports the median of the per-run ratios with their min and max, not the ratio of medians', () => {
    // Medians 20 and 10 would give 2.0; the runs' own ratios are 1, 3 and 1.5.
    const row = rowOf('W9', { label: 'jobs/s', digits: 0, better: 'higher' }, [10, 30, 20], [10, 10, 40 / 3]);
    expect(row.ratio.median).toBeCloseTo(1.5);
    expect(row.ratio.min).toBeCloseTo(1);
    expect(row.ratio.max).toBeCloseTo(3);
    expect(row.ratio.runs.map((r) => Number(r.toFixed(2)))).toEqual([1, 3, 1.5]);
    expect(row.qless.median).toBe(20);
  });

  it('summarises without the failed runs and keeps them in run order', () => {
    expect(summarize([3, NaN, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: [3, NaN, 1, 2] });
    expect(summarize([4, 2])).toMatchObject({ median: 3 });
    expect(summarize([NaN]).median).toBeNaN();
  });

  it('adds put and work per job run by run for a lifecycle', () => {
    const put = [{ redisCpuPerJob: 10 }, null];
    const work = [{ redisCpuPerJob: 30 }, { redisCpuPerJob: 40 }];
    const values = lifecycleValues(put, work, 'redisCpuPerJob');
    expect(values[0]).toBe(40);
    expect(values[1]).toBeNaN();
  });
});

describe('rows and table', () => {
  it('shows client CPU for W1–W4, daemon CPU for W5, and two byte figures for M', () => {
    const one = [figuresOf(throughput(100, { daemonCpuSeconds: 0.1 }))];
    expect(workloadRows('W2', one, one).map((row) => row.figure)).toEqual(['jobs/s', 'Redis CPU µs/job', 'client CPU µs/job', 'Redis commands/job']);
    expect(workloadRows('W5', one, one).map((row) => row.figure)).toEqual(['jobs/s', 'Redis CPU µs/job', 'daemon CPU µs/job', 'Redis commands/job']);
    expect(workloadRows('M', [], []).map((row) => row.figure)).toEqual(['Redis bytes/job, waiting', 'Redis bytes/job, completed and kept']);
  });

  it('prints each run ratio, the median with its spread, and each system on one line per figure', () => {
    const row = rowOf('W1 put, one at a time', { label: 'jobs/s', digits: 0, better: 'higher' }, [1200, 900], [1000, 1000]);
    const table = renderTable([row]);
    expect(table).toContain('| W1 put, one at a time | jobs/s | 1,050 (900–1,200) | 1,000 (1,000–1,000) | 1.05× (0.90–1.20) | 1.20 · 0.90 | higher |');
  });

  it('says n/a when a system has no figure, and a dash for a failed run', () => {
    const row = rowOf('W5', { label: 'jobs/s', digits: 0, better: 'higher' }, [NaN, 5], [4, 4]);
    expect(renderTable([row])).toContain('| 5 | 4 (4–4) | 1.25× | — · 1.25 |');
    expect(renderTable([rowOf('L', { label: 'p50 ms', digits: 2, better: 'lower' }, [], [1])])).toContain('| n/a |');
  });

  it('words one run of a workload for the progress log', () => {
    expect(runRatios('L', { p50: 1, p99: 4 }, { p50: 2, p99: 2 })).toBe('p50 ms 0.50×, p99 ms 2.00×');
  });
});
