/**
 * `--resume`: jobs still locked under this worker's name family — `<name>`
 * itself (as other qless workers name themselves) and `<name>-<pid>` for
 * any pid no live child of this supervisor uses — are taken back before
 * anything is popped. They are found once, by the supervisor, and split
 * among its first children (job k to child k mod N); a child forked later
 * to replace one never gets a share, so it cannot take a job a live sibling
 * runs. Each child then checks its share is still held as recorded and runs
 * those jobs under their holder's name (heartbeats and completions must name
 * the holder).
 *
 * Two daemons sharing a name (on different hosts, say) would take each
 * other's jobs: give each its own `--name` before using `--resume`.
 */
import * as qless from '../index.js';
import type { Client } from '../client.js';
import type { WorkerEvent } from '../events.js';
import type { Job } from '../job.js';
import type { Logger } from './logger.js';
import type { ResumeJob } from './protocol.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The jobs to take back, oldest holder first as the core lists them. */
export async function findResumable(client: Client, name: string, queues: readonly string[], live: ReadonlySet<string>): Promise<ResumeJob[]> {
  const family = new RegExp(`^${escapeRegExp(name)}(?:-\\d+)?$`);
  const wanted = new Set(queues);
  const holders = (await client.workers.counts()).map((w) => w.name).filter((n) => family.test(n) && !live.has(n));
  const found: ResumeJob[] = [];
  for (const holder of holders) {
    const { jobs, stalled } = await client.workers.get(holder);
    const jids = [...jobs, ...stalled];
    if (jids.length === 0) continue;
    for (const job of await client.jobs.multiget(jids)) {
      if (job.state === 'running' && job.worker === holder && wanted.has(job.queue)) found.push({ jid: job.jid, worker: holder });
    }
  }
  return found;
}

/** Split `items` into `n` groups by position modulo `n`. */
export function splitAmong<T>(items: readonly T[], n: number): T[][] {
  const groups: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => groups[i % n]!.push(item));
  return groups;
}

/** A job taken back, and the holder name it runs under. */
export interface ResumedJob {
  job: Job;
  worker: string;
}

/** What a child took back: its jobs, and a client per holder name to run them with. */
export interface TakenBack {
  jobs: ResumedJob[];
  holders: Map<string, Client>;
}

/**
 * A child's share of `--resume`: the jobs still running under their
 * recorded holder in one of `queues`, heartbeated once (as that holder) so
 * that their locks are fresh. The holders' worker channels are listened to
 * through `onWorkerEvent` (a lost lock or a cancellation).
 */
export async function takeBackShare(
  client: Client,
  share: readonly ResumeJob[],
  queues: ReadonlySet<string>,
  log: Logger,
  onWorkerEvent: (event: WorkerEvent) => void,
): Promise<TakenBack> {
  const byHolder = new Map<string, string[]>();
  for (const { jid, worker } of share) {
    const list = byHolder.get(worker) ?? [];
    list.push(jid);
    byHolder.set(worker, list);
  }
  const taken: TakenBack = { jobs: [], holders: new Map() };
  for (const [holder, jids] of byHolder) {
    // Jobs are completed and heartbeated under the name that holds them.
    const holderClient = qless.client({ connection: client.redis, workerName: holder });
    taken.holders.set(holder, holderClient);
    client.events.onWorker(holder, onWorkerEvent);
    for (const job of await holderClient.jobs.multiget(jids)) {
      if (job.state !== 'running' || job.worker !== holder || !queues.has(job.queue)) continue;
      try {
        await holderClient.call('heartbeat', job.jid, holder);
        await job.refresh();
        taken.jobs.push({ job, worker: holder });
        log.info({ jid: job.jid, klass: job.klass, holder }, 'resuming job');
      } catch (error) {
        log.info({ jid: job.jid, holder, error: (error as Error).message }, 'job not resumable');
      }
    }
  }
  if (taken.jobs.length > 0) await client.events.listen();
  return taken;
}
