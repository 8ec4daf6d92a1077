/**
 * One job at a time: `get`, `cancel`, `retry`, `move`, `priority`,
 * `track`/`untrack`, `tag`/`untag`, `depends`.
 */
import type { Command } from 'commander';
import type { Client } from '../../../client.js';
import type { Job, RequeueOptions } from '../../../job.js';
import { stateWords } from '../../../messages.js';
import { RecurringJob } from '../../../recurring.js';
import type { HistoryEntry } from '../../../types.js';
import { action } from '../context.js';
import { QlessError } from '../../../errors.js';
import { isConnectionProblem } from '../../../messages.js';
import { eachJid } from '../each.js';
import { CliError, NotFoundError, UsageError } from '../exit.js';
import { requireDependencies } from '../known.js';
import { duration, fields, indentedJson, orDash, timestamp, until } from '../format.js';
import * as parse from '../parse.js';

/** The job of `jid`; a recurring template or nothing is an error (exit 1). */
export async function findJob(client: Client, jid: string): Promise<Job> {
  const found = await client.jobs.get(jid);
  if (found === null) throw new NotFoundError(`no job ${jid}`);
  if (found instanceof RecurringJob) throw new CliError(`${jid} is a recurring job, not a job; see "qless-ts recurring --help"`);
  return found;
}

async function findAny(client: Client, jid: string): Promise<Job | RecurringJob> {
  const found = await client.jobs.get(jid);
  if (found === null) throw new NotFoundError(`no job ${jid}`);
  return found;
}

/** History entries as aligned lines: when, what, then the entry's other fields (sorted: the core's key order is not stable). */
function historyLines(history: readonly HistoryEntry[]): string[] {
  const width = Math.max(0, ...history.map((entry) => entry.what.length));
  return history.map(({ when, what, ...rest }) => {
    const details = Object.keys(rest)
      .sort()
      .map((key) => {
        const value = rest[key];
        return `${key === 'q' ? 'queue' : key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
      });
    return `  ${timestamp(when)}  ${what.padEnd(width)}  ${details.join(' ')}`.trimEnd();
  });
}

/** A job's fields, data and history as text. */
export function renderJob(job: Job, now: number): string[] {
  const expires = job.state === 'running' && job.expires > 0 ? `${timestamp(job.expires)} (${until(job.expires, now)})` : '-';
  const pairs: Array<[string, string]> = [
    ['jid', job.jid],
    ['klass', job.klass],
    ['queue', orDash(job.queue)],
    ['state', job.state],
    ['priority', String(job.priority)],
    ['tags', orDash(job.tags.join(', '))],
    ['worker', orDash(job.worker)],
    ['expires', expires],
    ['retries', `${job.retries} (${job.remaining} remaining)`],
    ['depends on', orDash([...job.dependencies].sort().join(', '))],
    ['dependents', orDash([...job.dependents].sort().join(', '))],
    ['tracked', job.tracked ? 'yes' : 'no'],
    ['spawned from', orDash(job.spawnedFromJid)],
  ];
  // Only a job that names throttles has any to show (its queue's own last).
  if (job.throttles.length > 0) pairs.push(['throttles', job.throttles.join(', ')]);
  const f = job.failure;
  // put does not clear a failure (only completion does): say it is a past one.
  if (f) pairs.push([job.state === 'failed' ? 'failure' : 'last failure', `${f.group} at ${timestamp(f.when)}${f.worker ? ` by ${f.worker}` : ''}`]);
  const lines = fields(pairs);
  // A failure message is often a stack trace: keep its lines.
  if (f) for (const line of f.message.split('\n')) lines.push(`  ${line}`.trimEnd());
  // The snapshot's data: also what another client stored that is not an object.
  lines.push('data', ...indentedJson(job.toJSON().data));
  lines.push('history', ...historyLines(job.history));
  return lines;
}

function renderRecurring(job: RecurringJob, next: number | null): string[] {
  return [
    ...fields([
      ['jid', job.jid],
      ['state', 'recur'],
      ['klass', job.klass],
      ['queue', job.queue],
      ['priority', String(job.priority)],
      ['tags', orDash(job.tags.join(', '))],
      ['retries', String(job.retries)],
      ['interval', `${duration(job.interval)} (${job.interval}s)`],
      ['spawned', String(job.count)],
      ['backlog', job.backlog === 0 ? 'all' : String(job.backlog)],
      ['next', next === null ? '-' : timestamp(next)],
    ]),
    'data',
    ...indentedJson(job.toJSON().data),
  ];
}

interface MoveFlags {
  delay?: number;
  priority?: number;
  tag?: string[];
  retries?: number;
  depends?: string[];
}

function requeueOptions(opts: MoveFlags): RequeueOptions {
  const options: RequeueOptions = {};
  if (opts.delay !== undefined) options.delay = opts.delay;
  if (opts.priority !== undefined) options.priority = opts.priority;
  if (opts.tag !== undefined) options.tags = opts.tag;
  if (opts.retries !== undefined) options.retries = opts.retries;
  if (opts.depends !== undefined) options.depends = opts.depends;
  return options;
}

export function register(program: Command): void {
  program
    .command('get <jid>')
    .description("a job's fields, data and history (or a recurring job's template)")
    .action(
      action(async (ctx, _opts: object, jid: string) => {
        const client = await ctx.client();
        const found = await findAny(client, jid);
        if (found instanceof RecurringJob) {
          const next = await found.next();
          ctx.emit({ ...found.toJSON(), state: 'recur', next }, () => renderRecurring(found, next));
        } else {
          ctx.emit(found.toJSON(), () => renderJob(found, client.now()));
        }
      }),
    );

  program
    .command('cancel <jids...>')
    .description('delete jobs (a job others depend on can only be canceled together with them); each jid is reported, exit 1 if any was not canceled')
    .action(
      action(async (ctx, _opts: object, jids: string[]) => {
        const client = await ctx.client();
        const existing = new Map((await client.jobs.multiget(jids)).map((job) => [job.jid, job]));
        // The core skips completed jobs silently: they are reported instead.
        const targets = [...existing.values()].filter((job) => job.state !== 'complete').map((job) => job.jid);
        // All together first, so that a job and those depending on it go in
        // one call; if the core refuses the set, one by one, so each jid
        // gets its own answer.
        let together = false;
        if (targets.length > 0) {
          try {
            await client.jobs.cancel(...targets);
            together = true;
          } catch (error) {
            if (isConnectionProblem(error) || !(error instanceof QlessError)) throw error;
          }
        }
        await eachJid(ctx, jids, async (jid) => {
          const job = existing.get(jid);
          if (job === undefined) throw new NotFoundError(`no job ${jid}`);
          if (job.state === 'complete') throw new CliError(`${jid} is complete and cannot be canceled`);
          if (!together) await client.jobs.cancel(jid);
          return { line: `canceled ${jid}` };
        });
      }),
    );

  program
    .command('retry <jids...>')
    .description('put failed jobs back into the queue each failed in, keeping klass, data, priority, tags and retries; exit 1 if any was not retried')
    .option('--delay <seconds>', 'seconds before they can be popped again', parse.number)
    .action(
      action(async (ctx, opts: { delay?: number }, jids: string[]) => {
        const client = await ctx.client();
        await eachJid(ctx, jids, async (jid) => {
          const job = await findJob(client, jid);
          if (job.state !== 'failed') {
            throw new CliError(`job ${jid} is ${stateWords(job.state)}, not failed; only failed jobs are retried (use "qless-ts move" to requeue any job)`);
          }
          const queue = job.queue;
          await job.requeue(queue, opts.delay === undefined ? {} : { delay: opts.delay });
          return { line: `retried ${jid} in ${queue} (${job.state})`, value: { queue, state: job.state } };
        });
      }),
    );

  program
    .command('move <jid> <queue>')
    .description('requeue a job (in any state) into a queue; a worker holding it is told it lost it')
    .option('--delay <seconds>', 'seconds before it can be popped', parse.number)
    .option('--priority <n>', 'a new priority (default: keep)', parse.number)
    .option('--tag <tag>', 'replace the tags; repeat for several', parse.collect)
    .option('--retries <n>', 'a new number of retries (default: keep)', parse.count)
    .option('--depends <jid>', 'replace the dependencies; repeat for several', parse.collect)
    .action(
      action(async (ctx, opts: MoveFlags, jid: string, queue: string) => {
        const client = await ctx.client();
        const job = await findJob(client, jid);
        const from = job.queue;
        await job.requeue(queue, requeueOptions(opts));
        ctx.emit({ jid, from, queue, state: job.state }, () => [`moved ${jid} from ${orDash(from)} to ${queue} (${job.state})`]);
      }),
    );

  program
    .command('priority')
    .description("change a job's priority (larger pops sooner; negative numbers are fine)")
    .argument('<jid>')
    .argument('<priority>', 'the new priority', parse.number)
    .action(
      action(async (ctx, _opts: object, jid: string, priority: number) => {
        const client = await ctx.client();
        const job = await findJob(client, jid);
        await job.setPriority(priority);
        ctx.emit({ jid, priority }, () => [`priority of ${jid} is ${priority}`]);
      }),
    );

  for (const [verb, does] of [
    ['track', "track jobs: their events are published (see watch) and they are listed by 'tracked'; exit 1 if any jid is not a job"],
    ['untrack', 'stop tracking jobs; exit 1 if any jid is not a job'],
  ] as const) {
    program
      .command(`${verb} <jids...>`)
      .description(does)
      .action(
        action(async (ctx, _opts: object, jids: string[]) => {
          const client = await ctx.client();
          await eachJid(ctx, jids, async (jid) => {
            await findJob(client, jid);
            const changed = verb === 'track' ? await client.track(jid) : await client.untrack(jid);
            const line = verb === 'track' ? `${changed ? 'tracking' : 'already tracking'} ${jid}` : `${changed ? 'untracked' : 'was not tracking'} ${jid}`;
            return { line, value: { changed } };
          });
        }),
      );
  }

  for (const [verb, does] of [
    ['tag', 'add tags to a job (or to a recurring job, for its future children)'],
    ['untag', 'remove tags from a job (or a recurring job)'],
  ] as const) {
    program
      .command(`${verb} <jid> <tags...>`)
      .description(does)
      .action(
        action(async (ctx, _opts: object, jid: string, tags: string[]) => {
          const client = await ctx.client();
          const job = await findAny(client, jid);
          const now = verb === 'tag' ? await job.tag(...tags) : await job.untag(...tags);
          ctx.emit({ jid, tags: now }, () => [`tags of ${jid}: ${orDash(now.join(', '))}`]);
        }),
      );
  }

  program
    .command('depends <jid>')
    .description("show a job's dependencies, or change them (the job must be waiting on dependencies)")
    .option('--on <jids...>', 'also wait for these jobs (each must exist and not be complete, or nothing is changed)')
    .option('--off <jids...>', 'stop waiting for these jobs')
    .option('--all', 'stop waiting for every job')
    .action(
      action(async (ctx, opts: { on?: string[]; off?: string[]; all?: boolean }, jid: string) => {
        if (opts.all && opts.off) throw new UsageError('give either --off <jids...> or --all');
        const client = await ctx.client();
        const job = await findJob(client, jid);
        if (opts.on) {
          await requireDependencies(client, opts.on, 'no dependency was added');
          await job.depend(...opts.on);
        }
        if (opts.off) await job.undepend(...opts.off);
        if (opts.all) await job.undepend({ all: true });
        if (opts.on || opts.off || opts.all) await job.refresh();
        // Sets in Redis: sorted here so the output is stable.
        const value = { jid, state: job.state, dependencies: [...job.dependencies].sort(), dependents: [...job.dependents].sort() };
        ctx.emit(value, () =>
          fields([
            ['jid', jid],
            ['state', job.state],
            ['depends on', orDash(value.dependencies.join(', '))],
            ['dependents', orDash(value.dependents.join(', '))],
          ]),
        );
      }),
    );
}
