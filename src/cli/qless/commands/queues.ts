/** `queues`, `queue <name>`, `pause`, `unpause`. */
import type { Command } from 'commander';
import { action } from '../context.js';
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
  program
    .command('queues')
    .description('list every known queue with its job counts')
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

  program
    .command('queue <name>')
    .description("a queue's counts, whether it is paused, and a day's statistics with histograms of wait and run times")
    .option('--date <day>', 'the UTC day of the statistics, YYYY-MM-DD (default today)', parse.date)
    .action(
      action(async (ctx, opts: { date?: number }, name: string) => {
        const client = await ctx.client();
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
    ['pause', 'stop handing out jobs of these queues (puts still work)'],
    ['unpause', 'hand out jobs of these queues again'],
  ] as const) {
    program
      .command(`${verb} <queues...>`)
      .description(does)
      .action(
        action(async (ctx, _opts: object, names: string[]) => {
          const client = await ctx.client();
          for (const name of names) {
            if (verb === 'pause') await client.queue(name).pause();
            else await client.queue(name).unpause();
          }
          ctx.emit({ [`${verb}d`]: names }, () => names.map((name) => `${verb}d ${name}`));
        }),
      );
  }
}
