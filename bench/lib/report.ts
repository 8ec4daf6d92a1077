/**
 * Turning measurements into figures (per run), summaries (median, min–max
 * over runs) and the table with the ratio qless-ts / BullMQ for every figure.
 */
import type { Measurement, WorkloadId } from './types.js';
import { WORKLOAD_TITLES } from './types.js';

/** The figures of one run of one workload on one system. */
export type Figures = Record<string, number>;

/** How a figure is shown and which way is better. */
export interface FigureSpec {
  key: string;
  label: string;
  digits: number;
  better: 'higher' | 'lower';
}

export const THROUGHPUT_FIGURES: FigureSpec[] = [
  { key: 'jobsPerSecond', label: 'jobs/s', digits: 0, better: 'higher' },
  { key: 'cpuPerJob', label: 'Redis CPU µs/job', digits: 1, better: 'lower' },
  { key: 'commandsPerJob', label: 'Redis commands/job', digits: 1, better: 'lower' },
];

export const LATENCY_FIGURES: FigureSpec[] = [
  { key: 'p50', label: 'p50 ms', digits: 2, better: 'lower' },
  { key: 'p99', label: 'p99 ms', digits: 2, better: 'lower' },
];

const SCRIPT_COMMANDS = ['evalsha', 'eval', 'fcall', 'fcall_ro', 'evalsha_ro', 'eval_ro'];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The figures a measurement gives. */
export function figuresOf(measurement: Measurement): Figures {
  if (measurement.kind === 'latency') {
    const sorted = [...measurement.samples].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }
  const { jobs, window } = measurement;
  let scriptCalls = 0;
  for (const name of SCRIPT_COMMANDS) scriptCalls += window.stats.get(name)?.calls ?? 0;
  return {
    jobsPerSecond: jobs / window.seconds,
    cpuPerJob: (window.cpuSeconds * 1e6) / jobs,
    commandsPerJob: window.commands / jobs,
    scriptCallsPerJob: scriptCalls / jobs,
  };
}

/** Median, min and max of one figure over runs. */
export interface Summary {
  median: number;
  min: number;
  max: number;
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
  better: 'higher' | 'lower';
  qless: Summary | undefined;
  bullmq: Summary | undefined;
  /** qless-ts median / BullMQ median. */
  ratio: number;
  note?: string;
}

function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatSummary(summary: Summary | undefined, digits: number): string {
  if (!summary || !Number.isFinite(summary.median)) return 'n/a';
  if (summary.runs.length < 2) return formatNumber(summary.median, digits);
  return `${formatNumber(summary.median, digits)} (${formatNumber(summary.min, digits)}–${formatNumber(summary.max, digits)})`;
}

/** Rows for one workload from the figures of each run of each system. */
export function workloadRows(workload: WorkloadId, qless: Figures[], bullmq: Figures[], note?: string): Row[] {
  const specs = workload === 'L' ? LATENCY_FIGURES : THROUGHPUT_FIGURES;
  return specs.map((spec) => {
    const q = qless.length > 0 ? summarize(qless.map((f) => f[spec.key] ?? NaN)) : undefined;
    const b = bullmq.length > 0 ? summarize(bullmq.map((f) => f[spec.key] ?? NaN)) : undefined;
    const row: Row = {
      workload: WORKLOAD_TITLES[workload],
      figure: spec.label,
      better: spec.better,
      qless: q,
      bullmq: b,
      ratio: q && b ? q.median / b.median : NaN,
    };
    if (note !== undefined) row.note = note;
    return row;
  });
}

/** Figure specs by label, for formatting rows. */
function digitsOf(label: string): number {
  return [...THROUGHPUT_FIGURES, ...LATENCY_FIGURES].find((spec) => spec.label === label)?.digits ?? 1;
}

/** The table as Markdown. */
export function renderTable(rows: Row[]): string {
  const lines = [
    '| workload | figure | qless-ts median (min–max) | BullMQ median (min–max) | qless-ts / BullMQ | better |',
    '|---|---|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const digits = digitsOf(row.figure);
    const ratio = Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)}×` : 'n/a';
    const better = row.better === 'higher' ? 'higher' : 'lower';
    lines.push(`| ${row.workload} | ${row.figure} | ${formatSummary(row.qless, digits)} | ${formatSummary(row.bullmq, digits)} | ${ratio} | ${better} |`);
  }
  return lines.join('\n');
}
