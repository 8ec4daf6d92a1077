/**
 * Listings of jobs by where they are: `jobs <queue> [--state]` (one queue's
 * jobs in one state, in the core's order) and `completed` (the most
 * recently completed jobs of every queue, with when and how long).
 */
import { Option, type Command } from 'commander';
import type { Client } from '../../../client.js';
import type { Job } from '../../../job.js';
import { RecurringJob } from '../../../recurring.js';
import { completion } from '../../../timeline.js';
import { action } from '../context.js';
import { requireQueues } from '../known.js';
import { duration, orDash, table, timestamp, until } from '../format.js';
import * as parse from '../parse.js';

const STATES = ['waiting', 'running', 'scheduled', 'stalled', 'depends', 'recurring'] as const;
type ListedState = (typeof STATES)[number];

async function jobsOf(client: Client, jids: readonly string[], listed: ListedState): Promise<Array<Job | RecurringJob>> {
  // multiget returns jobs only; templates are read one at a time.
  if (listed !== 'recurring') return client.jobs.multiget(jids);
  const found = await Promise.all(jids.map((jid) => client.jobs.get(jid)));
  return found.filter((job): job is RecurringJob => job instanceof RecurringJob);
}

function rows(jobs: ReadonlyArray<Job | RecurringJob>, listed: ListedState, now: number): { header: string[]; rows: string[][] } {
  if (listed === 'recurring') {
    return {
      header: ['jid', 'klass', 'every', 'priority', 'spawned'],
      rows: jobs.map((job) => {
        const r = job as RecurringJob;
        return [r.jid, r.klass, duration(r.interval), String(r.priority), String(r.count)];
      }),
    };
  }
  const plain = jobs as readonly Job[];
  if (listed === 'running' || listed === 'stalled') {
    return {
      header: ['jid', 'klass', 'worker', listed === 'running' ? 'lock' : 'lock expired', 'priority'],
      rows: plain.map((job) => [job.jid, job.klass, orDash(job.worker), job.expires > 0 ? until(job.expires, now) : '-', String(job.priority)]),
    };
  }
  return {
    header: ['jid', 'klass', 'priority', 'tags', listed === 'depends' ? 'depends on' : 'put'],
    rows: plain.map((job) => [
      job.jid,
      job.klass,
      String(job.priority),
      orDash(job.tags.join(', ')),
      listed === 'depends' ? [...job.dependencies].sort().join(', ') : timestamp(job.history[0]?.when ?? 0),
    ]),
  };
}

export function register(program: Command): void {
  program
    .command('jobs <queue>')
    .description("a queue's jobs in one state, in the order the core keeps them (waiting: the order they pop in)")
    .addOption(new Option('--state <state>', 'which of its jobs').choices(STATES).default('waiting'))
    .option('--offset <n>', 'skip this many jobs', parse.count, 0)
    .option('--count <n>', 'show at most this many jobs', parse.limit, 25)
    .action(
      action(async (ctx, opts: { state: ListedState; offset: number; count: number }, queue: string) => {
        const client = await ctx.client();
        await requireQueues(client, [queue], 'nothing to list');
        const q = client.queue(queue);
        const [jids, counts] = await Promise.all([q.jobs[opts.state](opts.offset, opts.count), q.counts()]);
        const jobs = await jobsOf(client, jids, opts.state);
        const total = counts[opts.state];
        ctx.emit({ queue, state: opts.state, total, offset: opts.offset, jobs: jobs.map((job) => job.toJSON()) }, () => {
          if (total === 0) return [`${queue}: no ${opts.state} jobs`];
          const shown = jobs.length === 0 ? 'none shown' : `showing ${opts.offset + 1}-${opts.offset + jobs.length}`;
          const listing = rows(jobs, opts.state, client.now());
          return [`${queue}: ${total} ${opts.state} (${shown})`, ...table(listing.header, listing.rows)];
        });
      }),
    );

  program
    .command('completed')
    .description('the most recently completed jobs of every queue, newest first, with when they completed and how long they ran')
    .option('--offset <n>', 'skip this many jobs', parse.count, 0)
    .option('--count <n>', 'show at most this many jobs', parse.limit, 25)
    .action(
      action(async (ctx, opts: { offset: number; count: number }) => {
        const client = await ctx.client();
        const jobs = await client.jobs.multiget(await client.jobs.complete(opts.offset, opts.count));
        const listed = jobs.map((job) => ({ job, ...completion(job) }));
        ctx.emit(
          listed.map(({ job, completedAt, ranFor, queue }) => ({ ...job.toJSON(), completedAt, ranFor, completedIn: queue })),
          () =>
            listed.length === 0
              ? ['no completed jobs (the core keeps them for jobs-history seconds, at most jobs-history-count)']
              : table(
                  ['jid', 'klass', 'queue', 'completed', 'ran for'],
                  listed.map(({ job, completedAt, ranFor, queue }) => [job.jid, job.klass, orDash(queue), completedAt === null ? '-' : timestamp(completedAt), ranFor === null ? '-' : duration(ranFor)]),
                  ['left', 'left', 'left', 'left', 'right'],
                ),
        );
      }),
    );
}
