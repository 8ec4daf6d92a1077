/**
 * Collecting the young generation while the child is idle.
 *
 * A child allocates most of what one job costs it (the pop's reply, the
 * job, its run's promises) right after the pop's reply, so that is where
 * V8's scavenges fall when the young generation fills up: every few dozen
 * jobs, one job started a few milliseconds late (issue 16, put → start
 * p99). A child going to sleep with a young generation three quarters full
 * collects it then instead — cheaply, as little of it is still alive — so
 * that the next jobs do not meet the collection.
 *
 * The collector is reached without `--expose-gc` on the command line (which
 * would give every job's code a global `gc`): the flag is set for a moment,
 * just to read `gc` out of a fresh context.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'minor' }) => void;

function collector(): Collect | undefined {
  const own: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as Collect;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    return undefined; // no idle collection, V8 collects when it needs to
  }
}

let collect: Collect | undefined | null = null;

/** The child is going to sleep: collect the young generation if it is three quarters full. */
export function collectWhileIdle(): void {
  if (collect === null) collect = collector();
  if (collect === undefined) return;
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  if (young !== undefined && young.space_used_size > 3 * young.space_available_size) collect({ type: 'minor' });
}
