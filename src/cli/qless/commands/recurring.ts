/** `recurring` (list), `recurring add <queue> <klass>`, `recurring update <jid>`, `recurring cancel <jid>`. */
import type { Command } from 'commander';
import { RecurringJob, type RecurringUpdate } from '../../../recurring.js';
import type { Client } from '../../../client.js';
import type { RecurOptions } from '../../../queue.js';
import type { JsonObject } from '../../../types.js';
import { action } from '../context.js';
import { CliError, NotFoundError, UsageError } from '../exit.js';
import { duration, orDash, table, timestamp } from '../format.js';
import * as parse from '../parse.js';

const PAGE = 500;

async function findRecurring(client: Client, jid: string): Promise<RecurringJob> {
  const found = await client.jobs.get(jid);
  if (found === null) throw new NotFoundError(`no recurring job ${jid}`);
  if (!(found instanceof RecurringJob)) throw new CliError(`${jid} is a job, not a recurring job`);
  return found;
}

/** Every template of every known queue, with its next occurrence. */
async function allRecurring(client: Client): Promise<Array<{ job: RecurringJob; next: number | null }>> {
  const queues = (await client.queues.counts()).filter((q) => q.recurring > 0);
  const jids: string[] = [];
  for (const { name } of queues) {
    for (let offset = 0; ; offset += PAGE) {
      const page = await client.queue(name).jobs.recurring(offset, PAGE);
      jids.push(...page);
      if (page.length < PAGE) break;
    }
  }
  const found = await Promise.all(jids.map((jid) => client.jobs.get(jid)));
  const jobs = found.filter((job): job is RecurringJob => job instanceof RecurringJob);
  const nexts = await Promise.all(jobs.map((job) => job.next()));
  return jobs.map((job, i) => ({ job, next: nexts[i] ?? null }));
}

interface AddFlags {
  interval: number;
  offset?: number;
  data?: JsonObject;
  priority?: number;
  tag?: string[];
  retries?: number;
  backlog?: number;
  jid?: string;
}

interface UpdateFlags {
  interval?: number;
  priority?: number;
  retries?: number;
  data?: JsonObject;
  klass?: string;
  queue?: string;
  backlog?: number;
}

export function register(program: Command): void {
  const recurring = program.command('recurring').description('recurring jobs: list them (the default), add, update or cancel one');

  recurring
    .command('list', { isDefault: true })
    .description('every recurring job of every known queue, next occurrence first')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const all = (await allRecurring(client)).sort((a, b) => (a.next ?? Infinity) - (b.next ?? Infinity) || (a.job.jid < b.job.jid ? -1 : 1));
        ctx.emit(
          all.map(({ job, next }) => ({ ...job.toJSON(), next })),
          () =>
            all.length === 0
              ? ['no recurring jobs']
              : table(
                  ['jid', 'klass', 'queue', 'every', 'priority', 'spawned', 'next'],
                  all.map(({ job, next }) => [job.jid, job.klass, job.queue, duration(job.interval), String(job.priority), String(job.count), next === null ? '-' : timestamp(next)]),
                  ['left', 'left', 'left', 'right', 'right', 'right', 'left'],
                ),
        );
      }),
    );

  recurring
    .command('add <queue> <klass>')
    .description('put a recurring job: a child job is put into <queue> every --interval seconds (prints its jid)')
    .requiredOption('--interval <seconds>', 'seconds between occurrences', parse.positive)
    .option('--offset <seconds>', 'seconds from now until the first occurrence (default 0: now)', parse.count)
    .option('--data <json>', 'data of the children, a JSON object (default {})', parse.jsonObject)
    .option('--priority <n>', 'priority of the children (default 0)', parse.number)
    .option('--tag <tag>', 'a tag of the children; repeat for several', parse.collect)
    .option('--retries <n>', 'retries of the children (default 5)', parse.count)
    .option('--backlog <n>', 'most overdue occurrences spawned at once after a pause (default 0 = all)', parse.count)
    .option('--jid <jid>', "the recurring job's id (default a random one; an existing one is replaced)")
    .addHelpText('after', '\nExample:\n  qless-ts recurring add reports reports.Nightly --interval 86400 --offset 3600 --tag nightly')
    .action(
      action(async (ctx, opts: AddFlags, queue: string, klass: string) => {
        const client = await ctx.client();
        const options: RecurOptions = { interval: opts.interval };
        if (opts.offset !== undefined) options.offset = opts.offset;
        if (opts.priority !== undefined) options.priority = opts.priority;
        if (opts.tag !== undefined) options.tags = opts.tag;
        if (opts.retries !== undefined) options.retries = opts.retries;
        if (opts.backlog !== undefined) options.backlog = opts.backlog;
        if (opts.jid !== undefined) options.jid = opts.jid;
        const jid = await client.queue(queue).recur(klass, opts.data ?? {}, options);
        const job = await findRecurring(client, jid);
        const next = await job.next();
        ctx.emit({ ...job.toJSON(), next }, () => [jid]);
        if (!ctx.json) ctx.note(`every ${duration(job.interval)} into ${queue}, next ${next === null ? '-' : timestamp(next)}`);
      }),
    );

  recurring
    .command('update <jid>')
    .description("change a recurring job's template (future children only)")
    .option('--interval <seconds>', 'seconds between occurrences', parse.positive)
    .option('--priority <n>', 'priority of the children', parse.number)
    .option('--retries <n>', 'retries of the children', parse.count)
    .option('--data <json>', 'data of the children (replaces it whole)', parse.jsonObject)
    .option('--klass <klass>', 'klass of the children')
    .option('--queue <queue>', 'queue the children are put into')
    .option('--backlog <n>', 'most overdue occurrences spawned at once after a pause (0 = all)', parse.count)
    .action(
      action(async (ctx, opts: UpdateFlags, jid: string) => {
        const update: RecurringUpdate = {};
        for (const key of ['interval', 'priority', 'retries', 'data', 'klass', 'queue', 'backlog'] as const) {
          if (opts[key] !== undefined) Object.assign(update, { [key]: opts[key] });
        }
        if (Object.keys(update).length === 0) throw new UsageError('nothing to update: give at least one of --interval, --priority, --retries, --data, --klass, --queue, --backlog');
        const client = await ctx.client();
        const job = await findRecurring(client, jid);
        await job.update(update);
        const next = await job.next();
        ctx.emit({ ...job.toJSON(), next }, () => [
          `updated ${jid}: ${Object.keys(update).join(', ')}`,
          `every ${duration(job.interval)}, priority ${job.priority}, retries ${job.retries}, queue ${job.queue}, next ${next === null ? '-' : timestamp(next)}`,
          `tags ${orDash(job.tags.join(', '))}`,
        ]);
      }),
    );

  recurring
    .command('cancel <jid>')
    .description('stop a recurring job (children already spawned are untouched)')
    .action(
      action(async (ctx, _opts: object, jid: string) => {
        const client = await ctx.client();
        const job = await findRecurring(client, jid);
        await job.cancel();
        ctx.emit({ canceled: jid }, () => [`canceled recurring job ${jid}`]);
      }),
    );
}
