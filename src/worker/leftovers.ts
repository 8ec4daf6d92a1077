/**
 * What a child leaves behind when it exits: the jobs it still held, and its
 * name in the core's worker list.
 *
 * Every child reports to the core as `<name>-<pid>`, and the core lists a
 * worker until `max-worker-age` (a day) after its last pop or heartbeat, so
 * without clean-up every reload, recycle or crash would leave a line behind.
 * A name is dropped (`worker.deregister`) only once it holds no jobs, locked
 * or stalled: the listing is how `--resume` finds jobs left by a daemon
 * that died, so a name that still holds some stays listed until they are
 * dealt with.
 *
 * - A child that exits cleanly drops its own name (and the holder names of
 *   the jobs it resumed) on its way out.
 * - For a child that died (killed, crashed) the supervisor does it, after
 *   giving the child's jobs back to their queues with the core's `retry`:
 *   the process is gone, so none of them can still be running, and there
 *   is no point in letting them wait for their locks to expire. `retry`
 *   names the holder, so a job the child finished just before dying (or
 *   that moved on meanwhile) is refused and left as it is; it uses up one of
 *   the job's retries, as an expired lock does, so that a job that kills
 *   every child running it ends up failed (`failed-retries-<queue>`)
 *   instead of crashing children forever.
 */
import type { Client } from '../client.js';
import { errorFields, type Logger } from './logger.js';

/** A job a dead child may have held, under the holder name it ran as. */
export interface HeldJob {
  jid: string;
  worker: string;
}

/** Drop each name from the core's worker list if it holds no job. Best effort: errors are left to the caller. */
export async function forgetIdleWorkers(client: Client, names: Iterable<string>): Promise<string[]> {
  const forgotten: string[] = [];
  for (const name of new Set(names)) {
    const { jobs, stalled } = await client.workers.get(name);
    if (jobs.length > 0 || stalled.length > 0) continue;
    await client.workers.deregister(name);
    forgotten.push(name);
  }
  return forgotten;
}

/**
 * A child died: give back what it held (`known`, plus whatever the core
 * lists under `worker`), then drop the names that hold nothing any more.
 */
export async function settleDeadChild(client: Client, log: Logger, dead: { worker: string; why: string; known: readonly HeldJob[] }): Promise<void> {
  const { worker, why, known } = dead;
  try {
    const listed = await client.workers.get(worker);
    const holders = new Map<string, Set<string>>();
    const note = (jid: string, holder: string): void => {
      const set = holders.get(jid) ?? new Set<string>();
      set.add(holder);
      holders.set(jid, set);
    };
    for (const { jid, worker: holder } of known) note(jid, holder);
    for (const jid of [...listed.jobs, ...listed.stalled]) note(jid, worker);
    const jobs = holders.size === 0 ? [] : await client.jobs.multiget([...holders.keys()]);
    const ours = jobs.filter((job) => job.state === 'running' && holders.get(job.jid)!.has(job.worker));
    if (ours.length > 0) {
      const outcomes = await client.callMany(ours.map((job) => ({
        command: 'retry',
        args: [job.jid, job.queue, job.worker, 0, `failed-retries-${job.queue}`, `Job ${job.jid} was given back to its queue because worker ${job.worker} died while it held the job (${why})`],
      })));
      const given = ours.filter((_, i) => outcomes[i]!.ok).map((job) => job.jid);
      const refused = ours.flatMap((job, i) => {
        const outcome = outcomes[i]!;
        return outcome.ok ? [] : [`${job.jid}: ${outcome.error.message}`];
      });
      log.info({ worker, jids: given, refused: refused.length > 0 ? refused : undefined }, 'gave the jobs of a dead child back to their queues (each used up a retry)');
    }
    const names = [worker, ...known.map((job) => job.worker)];
    const forgotten = await forgetIdleWorkers(client, names);
    if (forgotten.length > 0) log.debug({ workers: forgotten }, 'dropped dead workers from the worker list');
  } catch (error) {
    log.warn({ worker, ...errorFields(error) }, 'could not deal with the jobs of a dead child; they come back when their locks expire');
  }
}
