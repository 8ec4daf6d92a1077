/**
 * Is a job's lock still ours? Telling the core's answer from Redis's
 * passing trouble.
 *
 * A call about a job can fail because the lock is gone — the core refused
 * it: the job moved, timed out, was canceled or handed to another worker —
 * or because Redis could not serve it just then: unreachable, or refusing
 * writes for a while. Only the first says anything about the lock; taking
 * the second for it would abort every running job whenever Redis reaches
 * `maxmemory` or fails over.
 */
import type { Client } from '../client.js';
import { ConnectionError, ScriptError } from '../errors.js';

/**
 * Replies with which Redis refuses a call for a while rather than for good:
 * out of memory under `maxmemory` (OOM), loading its data, busy with a long
 * script, a replica that may not write, a failed background save, a cluster
 * or replication hiccup.
 */
const TRANSIENT_REPLY = /^(?:OOM|LOADING|BUSY|READONLY|MASTERDOWN|NOREPLICAS|TRYAGAIN|MISCONF|CLUSTERDOWN)\b/;

/**
 * Whether a failed call is worth sending again later: Redis could not be
 * reached, or refused it for a while (see TRANSIENT_REPLY). Anything else
 * the core said is a real answer (a lost lock, a job that is gone).
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  return error instanceof ScriptError && TRANSIENT_REPLY.test(error.scriptMessage);
}

/** Whether a failed call says the job's lock is gone (the core's refusal, not a Redis hiccup). */
export function lockRefused(error: unknown): boolean {
  return error instanceof ScriptError && !isTransient(error);
}

/**
 * Ask the core, with a heartbeat as `holder` (which renews the lock when it
 * is held), whether the job's lock is still held: for news of a lost lock
 * that may be stale (worker events travel on another connection than the
 * child's calls) or still unread (behind a blocked event loop).
 */
export async function checkLock(client: Client, jid: string, holder: string): Promise<'held' | 'lost' | 'unknown'> {
  try {
    await client.call('heartbeat', jid, holder);
    return 'held';
  } catch (error) {
    return lockRefused(error) ? 'lost' : 'unknown';
  }
}

/**
 * Whether a job whose heartbeat was refused was completed by `holder`
 * itself: it is complete, and the last worker it was handed to is
 * `holder`. Only the lock's holder may complete a job, so then the run the
 * heartbeat was for is over, however late its child says so (a child whose
 * next job blocks its event loop cannot report the previous one's end):
 * nothing of it runs on that must be stopped. False when unsure (the job
 * is gone, Redis did not answer).
 */
export async function completedByHolder(client: Client, jid: string, holder: string): Promise<boolean> {
  try {
    const job = await client.jobs.get(jid);
    if (job === null || job.state !== 'complete') return false;
    const popped = job.history.filter((entry) => entry.what === 'popped');
    return popped.at(-1)?.['worker'] === holder;
  } catch {
    return false;
  }
}
