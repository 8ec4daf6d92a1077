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
 * A holder may still be alive: the orphaned child of a daemon killed a
 * moment ago stops by itself within seconds (src/worker/watchdog.ts), and
 * until then it may still run the job. Children carry their worker name in
 * their environment (NAME_ENV), so on this host the supervisor can tell a
 * live `<name>-<pid>` of this name from a dead one (or from an unrelated
 * process that got the pid since); it waits a few seconds for live holders
 * to exit, and leaves the jobs of any still alive to their lock's expiry.
 *
 * Two daemons sharing a name (on different hosts, say) would take each
 * other's jobs: give each its own `--name` before using `--resume`.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as qless from '../index.js';
import type { Client } from '../client.js';
import type { Durability } from '../connection/durability.js';
import type { WorkerEvent } from '../events.js';
import type { Job } from '../job.js';
import type { Logger } from './logger.js';
import type { ResumeJob } from './protocol.js';
import { KILL_AFTER_MS, POLL_MS } from './watchdog.js';

/** The environment variable that carries a child's worker name (the daemon's `--name`). */
export const NAME_ENV = 'QLESS_TS_WORKER_NAME';
/**
 * How long `--resume` waits for live holders to exit: an orphan stops
 * within POLL_MS + KILL_AFTER_MS, plus room for a busy machine.
 */
export const LIVE_HOLDER_WAIT_MS = POLL_MS + KILL_AFTER_MS + 3000;

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

/**
 * Whether the holder `<name>-<pid>` is a process alive on this host as a
 * child of a qless-ts-worker named `name`. Where that cannot be told (no
 * /proc, or another user's process), any live process with that pid counts:
 * a job left to its lock's expiry is late, a job run twice at once is worse.
 * A holder without a pid (`<name>` itself) is never alive here.
 */
export function holderAlive(name: string, holder: string): boolean {
  const match = /^-(\d+)$/.exec(holder.slice(name.length));
  if (!holder.startsWith(name) || !match) return false;
  const pid = Number(match[1]);
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    // Gone meanwhile, or not ours to read: alive unless /proc says it is gone.
    return !existsSync('/proc/self') || existsSync(`/proc/${pid}`);
  }
  // A zombie has an empty environment; so has a process of another program.
  return environ.split('\0').includes(`${NAME_ENV}=${name}`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The jobs of `found` whose holders are not alive (see holderAlive), after
 * waiting up to `waitMs` for live ones to exit. Jobs of holders still alive
 * then are left alone: they come back when their locks expire.
 */
export async function withoutLiveHolders(found: readonly ResumeJob[], name: string, log: Logger, waitMs: number = LIVE_HOLDER_WAIT_MS): Promise<ResumeJob[]> {
  const liveHolders = (): string[] => [...new Set(found.map((job) => job.worker))].filter((holder) => holderAlive(name, holder));
  let live = liveHolders();
  if (live.length > 0) {
    log.info({ holders: live, waitMs }, 'jobs to resume are held by processes of this worker name that are still alive (orphans of a killed daemon?); waiting for them to exit');
    const deadline = Date.now() + waitMs;
    while (live.length > 0 && Date.now() < deadline) {
      await sleep(100);
      live = liveHolders();
    }
    if (live.length > 0) {
      const left = found.filter((job) => live.includes(job.worker));
      log.warn({ holders: live, jids: left.map((job) => job.jid) }, 'not resuming jobs whose holder is still alive; they come back when their locks expire');
    }
  }
  return found.filter((job) => !live.includes(job.worker));
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

/** What a child needs to take its share back. */
export interface TakeBackOptions {
  /** The child's queues: a job moved elsewhere meanwhile is not taken. */
  queues: ReadonlySet<string>;
  /** The child's durability settings (`--wait-replicas`), for the holders' clients too. */
  durability: Durability | undefined;
  log: Logger;
  /** Called with every event on a holder's worker channel (a lost lock or a cancellation). */
  onWorkerEvent: (event: WorkerEvent) => void;
}

/**
 * A child's share of `--resume`: the jobs still running under their
 * recorded holder in one of the child's queues, heartbeated once (as that
 * holder) so that their locks are fresh.
 */
export async function takeBackShare(client: Client, share: readonly ResumeJob[], options: TakeBackOptions): Promise<TakenBack> {
  const { queues, durability, log, onWorkerEvent } = options;
  const byHolder = new Map<string, string[]>();
  for (const { jid, worker } of share) {
    const list = byHolder.get(worker) ?? [];
    list.push(jid);
    byHolder.set(worker, list);
  }
  const taken: TakenBack = { jobs: [], holders: new Map() };
  for (const [holder, jids] of byHolder) {
    // Jobs are completed and heartbeated under the name that holds them.
    const holderClient = qless.client({ connection: client.redis, namespace: client.namespace, workerName: holder, durability });
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
