/**
 * How a recurring job's schedule and a job's progress read for people: one
 * wording for the CLI and the dashboard, so that the two never disagree.
 */
import { formatInZone, DEFAULT_TIME_ZONE } from './cron/zone.js';
import type { RecurringJob } from './recurring.js';
import type { JsonObject, ProgressValue } from './types.js';

/**
 * A run time in the template's zone: ISO 8601 with the zone's offset
 * (`2026-03-29T03:00:00+02:00`), or with `Z` in UTC (interval templates).
 */
export function runTime(seconds: number, zone: string | null = null): string {
  if (!Number.isFinite(seconds)) return 'never';
  if (zone === null || zone === DEFAULT_TIME_ZONE) return new Date(Math.floor(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return formatInZone(seconds, zone);
}

/** A template's schedule and next runs, as listings show them. */
export interface ScheduleView {
  /** In words: `every 5 minutes`, `at 02:30 every day (Europe/Berlin)`. */
  schedule: string;
  /** The next run times, UTC seconds. */
  upcoming: number[];
  /** The same in the template's zone (see {@link runTime}). */
  upcomingText: string[];
}

/** The schedule in words and the next `count` runs (default 3) of a template. */
export async function scheduleView(job: RecurringJob, count = 3): Promise<ScheduleView> {
  const upcoming = await job.upcoming(count);
  return { schedule: job.describe(), upcoming, upcomingText: upcoming.map((t) => runTime(t, job.timezone)) };
}

/**
 * A progress report in words: `40%`, or an object's fields in name order
 * as `done 3, of 12, step thumbnails` (with `(25%)` when it has `done` and
 * `of`/`total` numbers).
 */
export function progressWords(value: ProgressValue | null): string {
  if (value === null) return '-';
  if (typeof value === 'number') return `${Number(value.toFixed(1))}%`;
  // Sorted: the core re-encodes the object, so the reporter's key order is lost.
  const parts = Object.keys(value)
    .sort()
    .map((key) => {
      const item = value[key];
      return `${key} ${typeof item === 'string' ? item : JSON.stringify(item)}`;
    });
  const share = doneShare(value);
  return `${parts.join(', ')}${share === null ? '' : ` (${Math.round(share * 100)}%)`}`;
}

/** `done` of `of` (or `total`) as a share, when an object report gives both. */
function doneShare(value: JsonObject): number | null {
  const done = value['done'];
  const total = value['of'] ?? value['total'];
  return typeof done === 'number' && typeof total === 'number' && total > 0 ? done / total : null;
}

/** A progress report as a share from 0 to 1 for a bar, when it gives one. */
export function progressShare(value: ProgressValue | null): number | null {
  if (value === null) return null;
  if (typeof value === 'number') return value / 100;
  const share = doneShare(value);
  if (share !== null) return Math.min(1, Math.max(0, share));
  const percent = value['percent'];
  return typeof percent === 'number' ? Math.min(1, Math.max(0, percent / 100)) : null;
}
