/**
 * `--resume`: jobs still locked under this worker's name family — `<name>`
 * itself (as other qless workers name themselves) and `<name>-<pid>` for
 * any pid no live child of this supervisor uses — are taken back before
 * anything is popped. They are found once, by the supervisor, and split
 * among its first children (job k to child k mod N); a child forked later
 * to replace one never gets a share, so it cannot take a job a live sibling
 * runs.
 *
 * Two daemons sharing a name (on different hosts, say) would take each
 * other's jobs: give each its own `--name` before using `--resume`.
 */
import type { Client } from '../client.js';
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
