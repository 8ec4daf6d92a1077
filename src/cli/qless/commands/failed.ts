/** `failed`, `failed <group>`, `unfail`, `retry-group`, `cancel-group`. */
import type { Command } from 'commander';
import type { Client } from '../../../client.js';
import type { Job } from '../../../job.js';
import { action, type Context } from '../context.js';
import { CliError, messageOf } from '../exit.js';
import { firstLine, orDash, table, timestamp } from '../format.js';
import * as parse from '../parse.js';
import { confirm } from '../prompt.js';
import { progress, type Progress } from '../progress.js';

const PAGE = 500;

/** Every job of a failure group, newest failure first. */
async function wholeGroup(client: Client, group: string): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.jobs.failed(group, offset, PAGE);
    jobs.push(...page.jobs);
    if (offset + PAGE >= page.total) return jobs;
  }
}

/** A bar on a terminal; silent otherwise (the result line says how many). */
async function bar(ctx: Context, total: number, noun: string): Promise<Progress> {
  return ctx.streams.stderr.isTTY ? progress(ctx.streams.stderr, total, noun) : { update: () => undefined, stop: () => undefined };
}

interface GroupOutcome {
  done: string[];
  /** Jobs that left the group between the listing and the action. */
  skipped: string[];
  errors: Array<{ jid: string; error: string }>;
}

/**
 * Apply `act` to each job of `group`, a batch at a time. Each batch is read
 * again first, so a job that left the group after the confirmation (retried
 * by someone else, say) is skipped rather than acted on blindly.
 */
async function eachFailed(client: Client, group: string, jids: readonly string[], meter: Progress, act: (job: Job) => Promise<unknown>): Promise<GroupOutcome> {
  const outcome: GroupOutcome = { done: [], skipped: [], errors: [] };
  for (let start = 0; start < jids.length; start += PAGE) {
    const batch = jids.slice(start, start + PAGE);
    const fresh = new Map((await client.jobs.multiget(batch)).map((job) => [job.jid, job]));
    const targets = batch.map((jid) => fresh.get(jid)).filter((job): job is Job => job?.state === 'failed' && job.failure?.group === group);
    const wanted = new Set(targets.map((job) => job.jid));
    outcome.skipped.push(...batch.filter((jid) => !wanted.has(jid)));
    const results = await Promise.allSettled(targets.map((job) => act(job)));
    results.forEach((result, i) => {
      const jid = targets[i]!.jid;
      if (result.status === 'fulfilled') outcome.done.push(jid);
      else outcome.errors.push({ jid, error: messageOf(result.reason) });
    });
    meter.update(start + batch.length);
  }
  meter.stop(jids.length);
  return outcome;
}

function report(ctx: Context, verb: string, group: string, outcome: GroupOutcome): void {
  const value = { group, [verb]: outcome.done.length, skipped: outcome.skipped, errors: outcome.errors };
  ctx.emit(value, () => [
    `${verb} ${outcome.done.length} ${outcome.done.length === 1 ? 'job' : 'jobs'} of group ${group}`,
    ...(outcome.skipped.length > 0 ? [`skipped ${outcome.skipped.length} that left the group meanwhile`] : []),
  ]);
  if (outcome.errors.length > 0) {
    for (const { jid, error } of outcome.errors) ctx.note(`${jid}: ${error}`);
    throw new CliError(`${outcome.errors.length} of the group's jobs could not be ${verb}`);
  }
}

export function register(program: Command): void {
  program
    .command('failed [group]')
    .description('failure groups and their job counts; with a group, its jobs (newest failure first)')
    .option('--offset <n>', 'skip this many jobs of the group', parse.count, 0)
    .option('--count <n>', 'show at most this many jobs of the group', parse.limit, 25)
    .action(
      action(async (ctx, opts: { offset: number; count: number }, group: string | undefined) => {
        const client = await ctx.client();
        if (group === undefined) {
          const counts = await client.jobs.failed();
          const groups = Object.keys(counts).sort();
          const sorted = Object.fromEntries(groups.map((g) => [g, counts[g]!]));
          ctx.emit(sorted, () => {
            if (groups.length === 0) return ['no failed jobs'];
            const rows = [...groups].sort((a, b) => counts[b]! - counts[a]! || (a < b ? -1 : 1)).map((g) => [g, String(counts[g])]);
            return table(['group', 'jobs'], rows, ['left', 'right']);
          });
          return;
        }
        const page = await client.jobs.failed(group, opts.offset, opts.count);
        ctx.emit({ group, total: page.total, offset: opts.offset, jobs: page.jobs.map((job) => job.toJSON()) }, () => {
          if (page.total === 0) return [`no failed jobs in group ${group}`];
          const shown = page.jobs.length === 0 ? 'none shown' : `showing ${opts.offset + 1}-${opts.offset + page.jobs.length}`;
          const rows = page.jobs.map((job) => [
            job.jid,
            job.klass,
            orDash(job.queue),
            job.failure ? timestamp(job.failure.when) : '-',
            orDash(job.failure?.worker),
            firstLine(job.failure?.message ?? ''),
          ]);
          return [`${group}: ${page.total} failed ${page.total === 1 ? 'job' : 'jobs'} (${shown})`, ...table(['jid', 'klass', 'queue', 'failed at', 'worker', 'message'], rows)];
        });
      }),
    );

  program
    .command('unfail <group> <queue>')
    .description("put a failure group's jobs back into a queue, oldest failure first (all of them unless --count)")
    .option('--count <n>', 'move at most this many jobs', parse.limit)
    .action(
      action(async (ctx, opts: { count?: number }, group: string, queue: string) => {
        const client = await ctx.client();
        let moved = 0;
        for (;;) {
          const want = opts.count === undefined ? PAGE : Math.min(PAGE, opts.count - moved);
          if (want <= 0) break;
          const n = await client.unfail(group, queue, want);
          moved += n;
          if (n < want) break;
        }
        ctx.emit({ group, queue, moved }, () => [`put ${moved} failed ${moved === 1 ? 'job' : 'jobs'} of group ${group} into ${queue}`]);
      }),
    );

  groupCommand(program, {
    name: 'retry-group',
    description: 'retry every job of a failure group in the queue it failed in (asks first unless --yes)',
    verb: 'retry',
    done: 'retried',
    act: (job) => job.requeue(job.queue),
  });
  groupCommand(program, {
    name: 'cancel-group',
    description: 'cancel (delete) every job of a failure group (asks first unless --yes)',
    verb: 'cancel',
    done: 'canceled',
    act: (job, client) => client.jobs.cancel(job.jid),
  });
}

// retry-group and cancel-group: the same confirmation, progress and report
// around a different action per job.
function groupCommand(
  program: Command,
  spec: { name: string; description: string; verb: 'retry' | 'cancel'; done: 'retried' | 'canceled'; act: (job: Job, client: Client) => Promise<unknown> },
): void {
  program
    .command(`${spec.name} <group>`)
    .description(spec.description)
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .action(
      action(async (ctx, opts: { yes?: boolean }, group: string) => {
        const client = await ctx.client();
        const jobs = await wholeGroup(client, group);
        if (jobs.length === 0) {
          ctx.emit({ group, [spec.done]: 0, skipped: [], errors: [] }, () => [`no failed jobs in group ${group}; nothing to ${spec.verb}`]);
          return;
        }
        const verb = spec.verb === 'retry' ? 'Retry' : 'Cancel';
        await confirm(ctx.streams, `${verb} ${jobs.length} failed ${jobs.length === 1 ? 'job' : 'jobs'} of group "${group}"?`, opts.yes);
        const meter = await bar(ctx, jobs.length, spec.verb);
        const outcome = await eachFailed(client, group, jobs.map((job) => job.jid), meter, (job) => spec.act(job, client));
        report(ctx, spec.done, group, outcome);
      }),
    );
}
