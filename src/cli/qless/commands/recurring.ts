/**
 * `recurring` (list), `recurring add <queue> <klass>`, `recurring update
 * <jid>`, `recurring cancel <jid>`. Listings show each schedule in words and
 * its next three runs in the template's zone.
 */
import type { Command } from 'commander';
import { RecurringJob, type RecurringUpdate } from '../../../recurring.js';
import type { Client } from '../../../client.js';
import { parseCron } from '../../../cron/parse.js';
import { checkTimeZone } from '../../../cron/zone.js';
import type { RecurChildOptions, RecurOptions } from '../../../queue.js';
import type { JsonObject } from '../../../types.js';
import { scheduleView, type ScheduleView } from '../../../view.js';
import { action } from '../context.js';
import { CliError, NotFoundError, UsageError } from '../exit.js';
import { orDash, table } from '../format.js';
import * as parse from '../parse.js';

const PAGE = 500;

async function findRecurring(client: Client, jid: string): Promise<RecurringJob> {
  const found = await client.jobs.get(jid);
  if (found === null) throw new NotFoundError(`no recurring job ${jid}`);
  if (!(found instanceof RecurringJob)) throw new CliError(`${jid} is a job, not a recurring job`);
  return found;
}

/** Every template of every known queue, with its next occurrence and schedule. */
async function allRecurring(client: Client): Promise<Array<{ job: RecurringJob; next: number | null; view: ScheduleView }>> {
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
  const views = await Promise.all(jobs.map((job) => scheduleView(job)));
  return jobs.map((job, i) => ({ job, next: views[i]!.upcoming[0] ?? null, view: views[i]! }));
}

/** A template as `--json` shows it: its fields, next run, schedule in words and next runs. */
function jsonOf(job: RecurringJob, view: ScheduleView): object {
  return { ...job.toJSON(), next: view.upcoming[0] ?? null, schedule: view.schedule, upcoming: view.upcoming };
}

/** The lines `add` and `update` print about a template. */
function summary(job: RecurringJob, view: ScheduleView): string[] {
  return [
    `${view.schedule}; priority ${job.priority}, retries ${job.retries}, queue ${job.queue}`,
    `next runs ${orDash(view.upcomingText.join(', '))}`,
    `tags ${orDash(job.tags.join(', '))}`,
  ];
}

/**
 * A cron expression and zone from the command line, checked before Redis
 * is reached (a bad one is a usage error, exit 2).
 */
function checkCron(expression: string, timezone: string | undefined): void {
  try {
    parseCron(expression);
    if (timezone !== undefined) checkTimeZone(timezone);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

interface AddFlags {
  interval?: number;
  offset?: number;
  cron?: string;
  timezone?: string;
  data?: JsonObject;
  priority?: number;
  tag?: string[];
  retries?: number;
  backlog?: number;
  jid?: string;
}

interface UpdateFlags {
  cron?: string;
  timezone?: string;
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
          all.map(({ job, view }) => jsonOf(job, view)),
          () =>
            all.length === 0
              ? ['no recurring jobs']
              : table(
                  ['jid', 'klass', 'queue', 'schedule', 'priority', 'spawned', 'next runs'],
                  all.map(({ job, view }) => [
                    job.jid, job.klass, job.queue, view.schedule, String(job.priority), String(job.count), orDash(view.upcomingText.join(', ')),
                  ]),
                  ['left', 'left', 'left', 'left', 'right', 'right', 'left'],
                ),
        );
      }),
    );

  recurring
    .command('add <queue> <klass>')
    .description('add a recurring job: every --interval seconds, or on a --cron schedule in a --timezone (prints its jid)')
    .option('--cron <expression>', 'a cron expression: 5 fields (minute hour day month weekday), 6 with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly')
    .option('--timezone <zone>', 'the IANA zone the cron times are read in, e.g. Europe/Berlin (default UTC)')
    .option('--interval <seconds>', 'seconds between occurrences', parse.positive)
    .option('--offset <seconds>', 'with --interval: seconds from now until the first occurrence (default 0: now)', parse.count)
    .option('--data <json>', 'data of each child, a JSON object (default {})', parse.jsonObject)
    .option('--priority <n>', 'priority of each child (default 0)', parse.number)
    .option('--tag <tag>', 'a tag of each child; repeat for several', parse.collect)
    .option('--retries <n>', 'retries of each child (default 5)', parse.count)
    .option('--backlog <n>', 'most overdue occurrences spawned at once after a pause (default 0 = all)', parse.count)
    .option('--jid <jid>', "the template's id (default a random one; an existing one is replaced)")
    .addHelpText(
      'after',
      '\nExamples:\n  qless-ts recurring add reports reports.Nightly --cron "30 2 * * *" --timezone Europe/Berlin\n' +
        '  qless-ts recurring add cleanup tasks.Sweep --interval 300 --data \'{"dry":false}\'',
    )
    .action(
      action(async (ctx, opts: AddFlags, queue: string, klass: string) => {
        if (opts.cron === undefined && opts.interval === undefined) throw new UsageError('a schedule is required: give --interval <seconds> or --cron <expression>');
        if (opts.cron !== undefined && opts.interval !== undefined) throw new UsageError('give either --cron or --interval, not both');
        if (opts.cron === undefined && opts.timezone !== undefined) throw new UsageError('--timezone goes with --cron');
        if (opts.cron !== undefined && opts.offset !== undefined) throw new UsageError('--offset goes with --interval (a cron job runs at its first match after now)');
        if (opts.cron !== undefined) checkCron(opts.cron, opts.timezone);
        const common: RecurChildOptions = {};
        if (opts.priority !== undefined) common.priority = opts.priority;
        if (opts.tag !== undefined) common.tags = opts.tag;
        if (opts.retries !== undefined) common.retries = opts.retries;
        if (opts.backlog !== undefined) common.backlog = opts.backlog;
        if (opts.jid !== undefined) common.jid = opts.jid;
        const options: RecurOptions =
          opts.cron !== undefined
            ? { ...common, cron: opts.cron, ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}) }
            : { ...common, interval: opts.interval!, ...(opts.offset !== undefined ? { offset: opts.offset } : {}) };
        const client = await ctx.client();
        const jid = await client.queue(queue).recur(klass, opts.data ?? {}, options);
        const job = await findRecurring(client, jid);
        const view = await scheduleView(job);
        // The jid alone on stdout (for scripts); what was scheduled on stderr.
        ctx.emit(jsonOf(job, view), () => [jid]);
        if (!ctx.json) ctx.note(`${view.schedule} into ${job.queue}, next ${orDash(view.upcomingText.join(', '))}`);
      }),
    );

  recurring
    .command('update <jid>')
    .description("change a recurring job's template (future children only)")
    .option('--cron <expression>', 'a new cron schedule (the next child is its first match after now)')
    .option('--timezone <zone>', "a cron job's new zone")
    .option('--interval <seconds>', 'seconds between occurrences (interval jobs)', parse.positive)
    .option('--priority <n>', 'priority of the children', parse.number)
    .option('--retries <n>', 'retries of the children', parse.count)
    .option('--data <json>', 'data of the children (replaces it whole)', parse.jsonObject)
    .option('--klass <klass>', 'klass of the children')
    .option('--queue <queue>', 'queue the children are put into')
    .option('--backlog <n>', 'most overdue occurrences spawned at once after a pause (0 = all)', parse.count)
    .action(
      action(async (ctx, opts: UpdateFlags, jid: string) => {
        const update: RecurringUpdate = {};
        for (const key of ['cron', 'timezone', 'interval', 'priority', 'retries', 'data', 'klass', 'queue', 'backlog'] as const) {
          if (opts[key] !== undefined) Object.assign(update, { [key]: opts[key] });
        }
        if (Object.keys(update).length === 0) {
          throw new UsageError('nothing to update: give at least one of --cron, --timezone, --interval, --priority, --retries, --data, --klass, --queue, --backlog');
        }
        if (opts.cron !== undefined && opts.interval !== undefined) throw new UsageError('give either --cron or --interval, not both');
        if (opts.cron !== undefined || opts.timezone !== undefined) checkCron(opts.cron ?? '* * * * *', opts.timezone);
        const client = await ctx.client();
        const job = await findRecurring(client, jid);
        if (opts.interval !== undefined && job.cron !== null && opts.cron === undefined) {
          throw new CliError(`${jid} runs on a cron schedule (${job.cron}); give --cron, not --interval`);
        }
        if (opts.timezone !== undefined && job.cron === null && opts.cron === undefined) {
          throw new CliError(`${jid} runs ${job.describe()}; --timezone applies to a cron schedule (give --cron too)`);
        }
        await job.update(update);
        const view = await scheduleView(job);
        ctx.emit(jsonOf(job, view), () => [`updated ${jid}: ${Object.keys(update).join(', ')}`, ...summary(job, view)]);
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
