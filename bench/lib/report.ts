/**
 * Turning measurements into figures (per run), summaries (median, min–max
 * over runs) and the table. The two systems are measured in pairs, one
 * right after the other in the same run, so the ratio qless-ts / BullMQ is
 * taken within each pair, where both met the same machine weather; the
 * table shows the median of those per-run ratios, their spread and each
 * one, next to each system's own median and min–max.
 */
import type { Measurement, WorkloadId } from './types.js';
import { WORKLOAD_TITLES } from './types.js';

/** The figures of one run of one workload on one system. */
export type Figures = Record<string, number>;

/** One system's figures for each run of one workload; `null` where that run failed. */
export type RunFigures = Array<Figures | null>;

/** How a figure is shown and which way is better. */
export interface FigureSpec {
  key: string;
  label: string;
  digits: number;
  better: 'higher' | 'lower';
}

const JOBS_PER_SECOND: FigureSpec = { key: 'jobsPerSecond', label: 'jobs/s', digits: 0, better: 'higher' };
const REDIS_CPU: FigureSpec = { key: 'redisCpuPerJob', label: 'Redis CPU µs/job', digits: 1, better: 'lower' };
const CLIENT_CPU: FigureSpec = { key: 'clientCpuPerJob', label: 'client CPU µs/job', digits: 1, better: 'lower' };
const DAEMON_CPU: FigureSpec = { key: 'daemonCpuPerJob', label: 'daemon CPU µs/job', digits: 1, better: 'lower' };
const COMMANDS: FigureSpec = { key: 'commandsPerJob', label: 'Redis commands/job', digits: 1, better: 'lower' };

/** The figures each workload shows, in table order. */
export function figureSpecs(workload: WorkloadId): FigureSpec[] {
  switch (workload) {
    case 'L':
      return [
        { key: 'p50', label: 'p50 ms', digits: 2, better: 'lower' },
        { key: 'p99', label: 'p99 ms', digits: 2, better: 'lower' },
      ];
    case 'M':
      return [
        { key: 'waitingBytesPerJob', label: 'Redis bytes/job, waiting', digits: 0, better: 'lower' },
        { key: 'completedBytesPerJob', label: 'Redis bytes/job, completed and kept', digits: 0, better: 'lower' },
      ];
    case 'W5':
      // The harness process only polls in W5; the daemons do the work.
      return [JOBS_PER_SECOND, REDIS_CPU, DAEMON_CPU, COMMANDS];
    default:
      return [JOBS_PER_SECOND, REDIS_CPU, CLIENT_CPU, COMMANDS];
  }
}

const SCRIPT_COMMANDS = ['evalsha', 'eval', 'fcall', 'fcall_ro', 'evalsha_ro', 'eval_ro'];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The figures a measurement gives. */
export function figuresOf(measurement: Measurement): Figures {
  switch (measurement.kind) {
    case 'latency': {
      const sorted = [...measurement.samples].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    }
    case 'memory':
      return { waitingBytesPerJob: measurement.waitingBytesPerJob, completedBytesPerJob: measurement.completedBytesPerJob };
    case 'throughput': {
      const { jobs, window } = measurement;
      let scriptCalls = 0;
      for (const name of SCRIPT_COMMANDS) scriptCalls += window.stats.get(name)?.calls ?? 0;
      const figures: Figures = {
        jobsPerSecond: jobs / window.seconds,
        redisCpuPerJob: (window.cpuSeconds * 1e6) / jobs,
        clientCpuPerJob: (window.clientCpuSeconds * 1e6) / jobs,
        commandsPerJob: window.commands / jobs,
        scriptCallsPerJob: scriptCalls / jobs,
      };
      if (window.daemonCpuSeconds !== undefined) figures['daemonCpuPerJob'] = (window.daemonCpuSeconds * 1e6) / jobs;
      return figures;
    }
  }
}

/** Median, min and max of one figure over runs. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every run's value in run order (NaN where a run failed). */
  runs: number[];
}

export function summarize(values: number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN, runs: values };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: values };
}

/** One line of the table. */
export interface Row {
  workload: string;
  figure: string;
  digits: number;
  better: 'higher' | 'lower';
  qless: Summary;
  bullmq: Summary;
  /** qless-ts / BullMQ within each run: median, min–max and each run's ratio. */
  ratio: Summary;
  note?: string;
}

function valuesOf(runs: RunFigures, key: string): number[] {
  return runs.map((figures) => figures?.[key] ?? NaN);
}

/** The ratio qless-ts / BullMQ of each run; NaN where either side has no value. */
export function perRunRatios(qless: number[], bullmq: number[]): number[] {
  const length = Math.max(qless.length, bullmq.length);
  return Array.from({ length }, (_, i) => (qless[i] ?? NaN) / (bullmq[i] ?? NaN));
}

/** A row from each system's per-run values of one figure. */
export function rowOf(workload: string, spec: Pick<FigureSpec, 'label' | 'digits' | 'better'>, qless: number[], bullmq: number[]): Row {
  return {
    workload,
    figure: spec.label,
    digits: spec.digits,
    better: spec.better,
    qless: summarize(qless),
    bullmq: summarize(bullmq),
    ratio: summarize(perRunRatios(qless, bullmq)),
  };
}

/** Rows for one workload from the figures of each run of each system. */
export function workloadRows(workload: WorkloadId, qless: RunFigures, bullmq: RunFigures, note?: string): Row[] {
  return figureSpecs(workload).map((spec) => {
    const row = rowOf(WORKLOAD_TITLES[workload], spec, valuesOf(qless, spec.key), valuesOf(bullmq, spec.key));
    if (note !== undefined) row.note = note;
    return row;
  });
}

/**
 * M's rows for qless-ts with jobs stored in the compact layout (core option
 * job-layout = compact): its figures in the qless-ts column, against
 * BullMQ's figures of the same runs.
 */
export function compactRows(compact: RunFigures, bullmq: RunFigures): Row[] {
  return figureSpecs('M').map((spec) =>
    rowOf(`${WORKLOAD_TITLES.M}, qless-ts job-layout = compact`, spec, valuesOf(compact, spec.key), valuesOf(bullmq, spec.key)),
  );
}

/**
 * A figure per job over a whole lifecycle, `put` workload plus `work`
 * workload, per run (both are per-job figures over the same number of jobs).
 */
export function lifecycleValues(put: RunFigures, work: RunFigures, key: string): number[] {
  return work.map((figures, i) => (put[i]?.[key] ?? NaN) + (figures?.[key] ?? NaN));
}

function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatSummary(summary: Summary, digits: number): string {
  if (!Number.isFinite(summary.median)) return 'n/a';
  if (summary.runs.filter((v) => Number.isFinite(v)).length < 2) return formatNumber(summary.median, digits);
  return `${formatNumber(summary.median, digits)} (${formatNumber(summary.min, digits)}–${formatNumber(summary.max, digits)})`;
}

function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a';
}

function formatRatioSummary(summary: Summary): string {
  if (!Number.isFinite(summary.median)) return 'n/a';
  if (summary.runs.filter((v) => Number.isFinite(v)).length < 2) return formatRatio(summary.median);
  return `${formatRatio(summary.median)} (${summary.min.toFixed(2)}–${summary.max.toFixed(2)})`;
}

/** The table as Markdown. */
export function renderTable(rows: Row[]): string {
  const lines = [
    '| workload | figure | qless-ts median (min–max) | BullMQ median (min–max) | qless-ts / BullMQ, median of runs (min–max) | each run | better |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const each = row.ratio.runs.map((r) => (Number.isFinite(r) ? r.toFixed(2) : '—')).join(' · ');
    lines.push(
      `| ${row.workload} | ${row.figure} | ${formatSummary(row.qless, row.digits)} | ${formatSummary(row.bullmq, row.digits)} | ` +
        `${formatRatioSummary(row.ratio)} | ${each} | ${row.better} |`,
    );
  }
  return lines.join('\n');
}

/** One run's ratios for one workload, for the progress log: `jobs/s 0.95×, Redis CPU µs/job 1.05×, …`. */
export function runRatios(workload: WorkloadId, qless: Figures, bullmq: Figures): string {
  return figureSpecs(workload)
    .map((spec) => `${spec.label} ${formatRatio((qless[spec.key] ?? NaN) / (bullmq[spec.key] ?? NaN))}`)
    .join(', ');
}
