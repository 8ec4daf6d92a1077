/**
 * The search box: an exact jid, queue name or tag goes straight to its
 * page; anything else lists what starts with or contains it: queues by
 * name, jobs by jid prefix, jobs and recurring jobs by klass name. Each
 * kind of match is bounded, so a search on a large Redis stays quick.
 */
import type { Client } from '../client.js';
import type { Job } from '../job.js';
import { scanTargets } from '../gateway.js';
import { recurringOf } from './data.js';
import type { RecurringJob } from '../recurring.js';

/** At most this many matches of each kind. */
const LIMIT = 25;
/** Keys a prefix search looks at before giving up (SCAN reads the whole keyspace in steps). */
const SCAN_BUDGET = 200_000;
/** Jobs of each queue and state looked at for a klass match. */
const PER_LIST = 100;

export interface SearchResults {
  queues: string[];
  /** Jobs whose jid starts with the text. */
  byJid: Job[];
  /** Jobs (among those listed first in each queue and failure group) and recurring jobs whose klass contains the text. */
  byKlass: Job[];
  recurring: RecurringJob[];
  /** The jid scan stopped at its budget: there may be more. */
  partial: boolean;
}

/** Where an exact match lives, if the text is one. */
export async function exactMatch(client: Client, text: string): Promise<{ kind: 'job' | 'queue' | 'tag' } | undefined> {
  if ((await client.jobs.get(text)) !== null) return { kind: 'job' };
  if ((await client.queues.counts()).some((q) => q.name === text)) return { kind: 'queue' };
  if ((await client.jobs.tagged(text, 0, 1)).total > 0) return { kind: 'tag' };
  return undefined;
}

async function jidsStartingWith(client: Client, prefix: string): Promise<{ jids: string[]; partial: boolean }> {
  const jids: string[] = [];
  const names = client.keys;
  let cursor = '0';
  let looked = 0;
  for (const node of scanTargets(client.redis)) {
    cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', names.jobRecordPattern(prefix), 'COUNT', 1000);
      cursor = next;
      looked += 1000;
      for (const key of keys) {
        const jid = names.jidOfJobRecord(key);
        if (jid !== undefined && jids.length < LIMIT) jids.push(jid);
      }
    } while (cursor !== '0' && jids.length < LIMIT && looked < SCAN_BUDGET);
    if (jids.length >= LIMIT || looked >= SCAN_BUDGET) break;
  }
  return { jids: jids.sort(), partial: cursor !== '0' && jids.length < LIMIT };
}

async function jobsWithKlass(client: Client, text: string): Promise<{ jobs: Job[]; recurring: RecurringJob[] }> {
  const needle = text.toLowerCase();
  const queues = await client.queues.counts();
  const lists = await Promise.all(
    queues.flatMap((q) => [
      q.running > 0 ? client.queue(q.name).jobs.running(0, PER_LIST) : [],
      q.waiting > 0 ? client.queue(q.name).jobs.waiting(0, PER_LIST) : [],
      q.scheduled > 0 ? client.queue(q.name).jobs.scheduled(0, PER_LIST) : [],
      q.depends > 0 ? client.queue(q.name).jobs.depends(0, PER_LIST) : [],
      q.stalled > 0 ? client.queue(q.name).jobs.stalled(0, PER_LIST) : [],
    ]),
  );
  const groups = Object.keys(await client.jobs.failed());
  const failed = await Promise.all(groups.map((group) => client.jobs.failed(group, 0, PER_LIST)));
  const jids = [...new Set([...lists.flat(), ...failed.flatMap((page) => page.jobs.map((job) => job.jid))])];
  const jobs = (await client.jobs.multiget(jids)).filter((job) => job.klass.toLowerCase().includes(needle)).slice(0, LIMIT);
  const templates = await Promise.all(queues.filter((q) => q.recurring > 0).map((q) => client.queue(q.name).jobs.recurring(0, PER_LIST)));
  const recurring = (await recurringOf(client, templates.flat())).filter((job) => job.klass.toLowerCase().includes(needle)).slice(0, LIMIT);
  return { jobs, recurring };
}

/** Everything the text starts or is part of. */
export async function search(client: Client, text: string): Promise<SearchResults> {
  const needle = text.toLowerCase();
  const [queues, byJid, byKlass] = await Promise.all([
    client.queues.counts().then((all) => all.map((q) => q.name).filter((name) => name.toLowerCase().includes(needle)).slice(0, LIMIT)),
    jidsStartingWith(client, text).then(async ({ jids, partial }) => ({ jobs: await client.jobs.multiget(jids), partial })),
    jobsWithKlass(client, text),
  ]);
  return { queues, byJid: byJid.jobs, byKlass: byKlass.jobs, recurring: byKlass.recurring, partial: byJid.partial };
}
