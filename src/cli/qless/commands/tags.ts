/** `tags`, `tagged <tag>`, `tracked`. */
import type { Command } from 'commander';
import { action } from '../context.js';
import { orDash, table } from '../format.js';
import * as parse from '../parse.js';
import type { Job } from '../../../job.js';

function jobTable(jobs: readonly Job[]): string[] {
  return table(['jid', 'klass', 'queue', 'state', 'tags'], jobs.map((job) => [job.jid, job.klass, orDash(job.queue), job.state, orDash(job.tags.join(', '))]));
}

export function register(program: Command): void {
  program
    .command('tags')
    .description('the most used tags (those on two or more jobs), most used first')
    .option('--offset <n>', 'skip this many tags', parse.count, 0)
    .option('--count <n>', 'show at most this many tags', parse.limit, 100)
    .action(
      action(async (ctx, opts: { offset: number; count: number }) => {
        const client = await ctx.client();
        const tags = await client.tags(opts.offset, opts.count);
        ctx.emit(tags, () => (tags.length === 0 ? ['no tag is on two or more jobs'] : tags));
      }),
    );

  program
    .command('tagged <tag>')
    .description('the jobs carrying a tag, oldest tagging first')
    .option('--offset <n>', 'skip this many jobs', parse.count, 0)
    .option('--count <n>', 'show at most this many jobs', parse.limit, 25)
    .action(
      action(async (ctx, opts: { offset: number; count: number }, tag: string) => {
        const client = await ctx.client();
        const page = await client.jobs.tagged(tag, opts.offset, opts.count);
        const jobs = ctx.json ? [] : await client.jobs.multiget(page.jids);
        ctx.emit({ tag, total: page.total, offset: opts.offset, jids: page.jids }, () =>
          page.total === 0 ? [`no jobs tagged ${tag}`] : [`${tag}: ${page.total} ${page.total === 1 ? 'job' : 'jobs'}`, ...jobTable(jobs)],
        );
      }),
    );

  program
    .command('tracked')
    .description('the tracked jobs, and tracked jids whose job is gone (expired)')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const tracked = await client.jobs.tracked();
        ctx.emit({ jobs: tracked.jobs.map((job) => job.toJSON()), expired: tracked.expired }, () => {
          if (tracked.jobs.length === 0 && tracked.expired.length === 0) return ['no tracked jobs'];
          return [
            ...(tracked.jobs.length > 0 ? jobTable(tracked.jobs) : []),
            ...(tracked.expired.length > 0 ? [`expired: ${tracked.expired.join(', ')}`] : []),
          ];
        });
      }),
    );
}
