/**
 * Text rendering for terminals: aligned tables, durations, timestamps and
 * the histograms of a queue's wait and run times. Everything here is pure
 * (strings in, strings out) so it is easy to read and to test.
 */
import type { TimingStats } from '../../types.js';

/** How a table column is aligned; numbers read best right-aligned. */
export type Align = 'left' | 'right';

/**
 * An aligned table: a header row, then the rows, columns separated by two
 * spaces. Trailing spaces are trimmed so the output diffs cleanly.
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[] = []): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  return all.map((row) =>
    header
      .map((_, c) => {
        const cell = row[c] ?? '';
        return align[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!);
      })
      .join('  ')
      .trimEnd(),
  );
}

/** `label  value` lines with the labels padded to one width. */
export function fields(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd());
}

function trimNumber(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.?0+$/, '');
}

/** A number of seconds for people: `0.25s`, `2.5s`, `3m 12s`, `2h 5m`, `1d 3h`. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 60) return `${sign}${trimNumber(s, s < 10 ? 2 : 1)}s`;
  const whole = Math.round(s);
  const parts: Array<[number, string]> =
    whole < 3600
      ? [[Math.floor(whole / 60), 'm'], [whole % 60, 's']]
      : whole < 86400
        ? [[Math.floor(whole / 3600), 'h'], [Math.floor((whole % 3600) / 60), 'm']]
        : [[Math.floor(whole / 86400), 'd'], [Math.floor((whole % 86400) / 3600), 'h']];
  return sign + parts.filter(([n], i) => i === 0 || n > 0).map(([n, unit]) => `${n}${unit}`).join(' ');
}

/** Time left until `expires`: `in 42s`, or `expired 3m ago`. */
export function until(expires: number, now: number): string {
  const left = expires - now;
  return left >= 0 ? `in ${duration(left)}` : `expired ${duration(-left)} ago`;
}

/** How long ago `seconds` was: `just now`, `42s ago`, `3m 12s ago`. */
export function ago(seconds: number, now: number): string {
  const past = now - seconds;
  return past < 1 ? 'just now' : `${duration(past)} ago`;
}

/** Seconds since the epoch as an ISO-8601 UTC time to the second. */
export function timestamp(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  return new Date(Math.floor(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A UTC day as `YYYY-MM-DD`. */
export function day(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** `-` for empty values, so columns never collapse. */
export function orDash(value: string | number | null | undefined): string {
  return value === undefined || value === null || value === '' ? '-' : String(value);
}

/** The first line of a message, cut to `max` characters. */
export function firstLine(text: string, max = 60): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Label of one of the core's 148 histogram buckets: seconds 0–59 (indices
 * 0–59), minutes 1–59 (60–118), hours 1–23 (119–141), days 1–6 (142–147).
 * Each bucket holds the samples from its label up to the next one.
 */
export function bucketLabel(index: number): string {
  if (index < 60) return `${index}s`;
  if (index < 119) return `${index - 59}m`;
  if (index < 142) return `${index - 118}h`;
  return `${index - 141}d`;
}

const BAR_WIDTH = 40;

/**
 * A horizontal bar chart of a histogram: one row per non-empty bucket,
 * scaled to the fullest one; a run of empty buckets between two rows is
 * shown as one `⋮` line so the shape stays visible without 148 rows.
 */
export function histogram(buckets: readonly number[], width = BAR_WIDTH): string[] {
  const shown = buckets.map((count, index) => ({ count, index })).filter(({ count }) => count > 0);
  if (shown.length === 0) return [];
  const max = Math.max(...shown.map(({ count }) => count));
  const labelWidth = Math.max(...shown.map(({ index }) => bucketLabel(index).length));
  const countWidth = String(max).length;
  const lines: string[] = [];
  let previous: number | undefined;
  for (const { count, index } of shown) {
    if (previous !== undefined && index > previous + 1) lines.push(`${''.padStart(labelWidth)} ⋮`);
    const bar = '█'.repeat(Math.max(1, Math.round((count / max) * width)));
    lines.push(`${bucketLabel(index).padStart(labelWidth)} │${bar.padEnd(width)} ${String(count).padStart(countWidth)}`);
    previous = index;
  }
  return lines;
}

/** The summary line and histogram of one kind of timing. */
export function timing(title: string, stats: TimingStats): string[] {
  const noun = stats.count === 1 ? 'job' : 'jobs';
  if (stats.count === 0) return [`${title}: no jobs`];
  const head = `${title}: ${stats.count} ${noun}, mean ${duration(stats.mean)}, std dev ${duration(stats.std)}`;
  return [head, ...histogram(stats.histogram).map((line) => `  ${line}`)];
}

/** JSON indented for reading, each line prefixed (for data inside a listing). */
export function indentedJson(value: unknown, prefix = '  '): string[] {
  return JSON.stringify(value, null, 2).split('\n').map((line) => prefix + line);
}
