/** `queues` (list), `queues forget`, `queue <name>`, `pause`, `unpause`. */
import type { Command } from 'commander';
import { action } from '../context.js';
import { CliError } from '../exit.js';
import { requireQueues } from '../known.js';
import { day, table, timing } from '../format.js';
import * as parse from '../parse.js';
import type { QueueCounts } from '../../../types.js';

const COUNTS = ['waiting', 'running', 'stalled', 'scheduled', 'depends', 'recurring'] as const;

function countsOnly(counts: QueueCounts): Record<(typeof COUNTS)[number], number> {
  return {
    waiting: counts.waiting,
    running: counts.running,
    stalled: counts.stalled,
    scheduled: counts.scheduled,
    depends: counts.depends,
    recurring: counts.recurring,
  };
}

export function register(program: Command): void {
  const queues = program.command('queues').description('the known queues: list them with their job counts (the default), or forget some');

  queues
    .command('list', { isDefault: true })
    .description('every known queue with its job counts')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const all = await client.queues.counts();
        ctx.emit(all, () => {
          if (all.length === 0) return ['no queues'];
          const rows = all.map((q) => [q.name, ...COUNTS.map((c) => String(q[c])), q.paused ? 'paused' : '']);
          return table(['queue', ...COUNTS, ''], rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right']);
        });
      }),
    );

  queues
    .command('forget <names...>')
    .description('drop queues from the listings (a later put brings a queue back); a queue that still holds jobs is refused unless --force')
    .option('--force', 'forget queues that still hold jobs (the jobs stay, and are still popped)')
    .action(
      action(async (ctx, opts: { force?: boolean }, names: string[]) => {
        const client = await ctx.client();
        await requireQueues(client, names, 'nothing was forgotten');
        const all = await client.queues.counts();
        const busy = all.filter((q) => names.includes(q.name) && COUNTS.some((c) => q[c] > 0));
        if (busy.length > 0 && !opts.force) {
          const what = busy.map((q) => `${q.name} (${COUNTS.filter((c) => q[c] > 0).map((c) => `${q[c]} ${c}`).join(', ')})`).join('; ');
          throw new CliError(`still holding jobs: ${what}; nothing was forgotten (--force forgets them anyway)`);
        }
        const unique = [...new Set(names)];
        for (const name of unique) await client.queue(name).forget();
        ctx.emit({ forgotten: unique }, () => unique.map((name) => `forgot queue ${name}`));
      }),
    );

  program
    .command('queue <name>')
    .description("a queue's counts, whether it is paused, and a day's statistics with histograms of wait and run times")
    .option('--date <day>', 'the UTC day of the statistics, YYYY-MM-DD (default today)', parse.date)
    .action(
      action(async (ctx, opts: { date?: number }, name: string) => {
        const client = await ctx.client();
        // An unknown name would show an all-zero queue: likely a typo.
        await requireQueues(client, [name], 'see "qless-ts queues"');
        const queue = client.queue(name);
        const when = opts.date ?? client.now();
        const [counts, stats] = await Promise.all([queue.counts(), queue.stats(when)]);
        const value = { name, paused: counts.paused, counts: countsOnly(counts), date: day(when), stats };
        ctx.emit(value, () => [
          `${name}${counts.paused ? ' (paused)' : ''}`,
          '',
          ...table([...COUNTS], [COUNTS.map((c) => String(counts[c]))], COUNTS.map(() => 'right')),
          '',
          `${value.date} (UTC): ${stats.failures} failures, ${stats.failed} still failed, ${stats.retries} retries`,
          ...timing('wait', stats.wait),
          ...timing('run', stats.run),
        ]);
      }),
    );

  for (const [verb, does] of [
    ['pause', 'stop handing out jobs of these queues (puts still work); an unknown queue is refused unless --force'],
    ['unpause', 'hand out jobs of these queues again; an unknown queue is refused unless --force'],
  ] as const) {
    program
      .command(`${verb} <queues...>`)
      .description(does)
      .option('--force', `${verb} queues that have never had a job (to ${verb} one before its first put)`)
      .action(
        action(async (ctx, opts: { force?: boolean }, names: string[]) => {
          const client = await ctx.client();
          if (!opts.force) await requireQueues(client, names, `nothing was ${verb}d`);
          for (const name of names) {
            if (verb === 'pause') await client.queue(name).pause();
            else await client.queue(name).unpause();
          }
          ctx.emit({ [`${verb}d`]: names }, () => names.map((name) => `${verb}d ${name}`));
        }),
      );
  }
}
