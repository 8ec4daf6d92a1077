/**
 * Undoing a run of the examples in a Redis that holds other data (the
 * quickstart with `--redis <url>`): every job, recurring template, queue,
 * worker and key the run created goes, and nothing else is touched.
 *
 * Most of it goes through the core (cancel, unrecur, queue.forget,
 * worker.deregister). The core keeps completed jobs on purpose and has no
 * command to drop them, nor a queue's daily statistics, so those few keys
 * are deleted by name (`client.keys`, src/keys.ts, spells them). That is only sound for
 * queues the run brought into being: the quickstart refuses to run on a
 * Redis that already knows one of the examples' queues.
 */
import * as qless from '../src/index.js';

/** What a run created, as far as it must be undone. */
export interface RunFootprint {
  /** Jids of the jobs the run put (a template's children are found from the template). */
  jids: readonly string[];
  /** Jids of the recurring templates it made. */
  templates: readonly string[];
  /** Queues that did not exist before the run. */
  queues: readonly string[];
  /** The run's workers are named `<workerPrefix>-<pid>`. */
  workerPrefix: string;
  /** Keys the run's jobs wrote themselves. */
  keys: Iterable<string>;
  /** When the run began (seconds since the epoch): statistics are kept per UTC day. */
  since: number;
}

const DAY = 86_400;

/** Remove everything `footprint` names; see the module comment. */
export async function eraseRun(client: qless.Client, footprint: RunFootprint): Promise<void> {
  const jids = new Set(footprint.jids);
  for (const jid of footprint.templates) {
    const template = await client.jobs.get(jid);
    if (!(template instanceof qless.RecurringJob)) continue;
    for (let n = 1; n <= template.count; n++) jids.add(`${jid}-${n}`);
    await template.cancel();
  }

  const jobs = await client.jobs.multiget([...jids]);
  // The run's workers, as the jobs' histories name them and as the core lists them.
  const workers = new Set<string>();
  const ours = (name: unknown): name is string => typeof name === 'string' && name.startsWith(`${footprint.workerPrefix}-`);
  for (const job of jobs) for (const entry of job.history) if (ours(entry.worker)) workers.add(entry.worker);
  // Read from the key itself: the core's `workers` listing would also prune other people's stale workers.
  for (const name of await client.redis.zrange(client.keys.workers, 0, -1)) if (ours(name)) workers.add(name);

  // The core cancels anything but a completed job, dependents together with what they wait for.
  const unfinished = jobs.filter((job) => job.state !== 'complete').map((job) => job.jid);
  if (unfinished.length > 0) await client.jobs.cancel(...unfinished);
  if (workers.size > 0) await client.workers.deregister(...workers);
  for (const queue of footprint.queues) await client.queue(queue).forget();

  const keys = client.keys;
  const batch = client.redis.multi();
  for (const job of jobs) {
    if (job.state !== 'complete') continue;
    batch.del(...keys.jobKeys(job.jid));
    batch.zrem(keys.completed, job.jid);
  }
  for (const worker of workers) batch.del(keys.workerJobs(worker));
  const today = Math.floor(client.now() / DAY) * DAY;
  for (let bin = Math.floor(footprint.since / DAY) * DAY; bin <= today; bin += DAY) {
    for (const queue of footprint.queues) batch.del(...keys.queueStats(queue, bin));
  }
  const own = [...footprint.keys];
  if (own.length > 0) batch.del(...own);
  await batch.exec();
}
