/**
 * What a job's history says about its last run, for the listings of the
 * CLI and the dashboard: when it completed, in which queue (the core clears
 * a completed job's queue), how long the run took, how long a running job
 * has been at it. Read from the history the core keeps; nothing is stored.
 */
import type { Job } from './job.js';
import type { HistoryEntry } from './types.js';

/** The last history entry named `what` (a job popped twice was last run by the second pop). */
function last(history: readonly HistoryEntry[], what: string): HistoryEntry | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.what === what) return history[i];
  return undefined;
}

/** Of a completed job: when it completed, how long its last run took (popped → done), and its queue. */
export function completion(job: Job): { completedAt: number | null; ranFor: number | null; queue: string | null } {
  const done = last(job.history, 'done');
  const popped = last(job.history, 'popped');
  return {
    completedAt: done?.when ?? null,
    ranFor: done && popped && popped.when <= done.when ? done.when - popped.when : null,
    queue: job.queue || last(job.history, 'put')?.q || null,
  };
}

/** Of a running job: seconds since its last pop (null when its history has none, e.g. trimmed). */
export function runningFor(job: Job, now: number): number | null {
  const popped = last(job.history, 'popped');
  return popped === undefined ? null : Math.max(0, now - popped.when);
}
