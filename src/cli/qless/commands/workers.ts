/** `workers` (list), `workers forget`, `worker <name>`. */
import type { Command } from 'commander';
import type { Client } from '../../../client.js';
import type { WorkerCounts } from '../../../types.js';
import { action } from '../context.js';
import { NotFoundError, UsageError } from '../exit.js';
import { ago, duration, orDash, table, until } from '../format.js';
import * as parse from '../parse.js';

/** Rows describing jobs by jid, in the order given (jobs gone meanwhile are left out). */
async function jobRows(client: Client, jids: readonly string[]): Promise<string[][]> {
  if (jids.length === 0) return [];
  const now = client.now();
  const jobs = await client.jobs.multiget(jids);
  return jobs.map((job) => [job.jid, job.klass, orDash(job.queue), job.state, job.expires > 0 ? until(job.expires, now) : '-']);
}

function lastSeen(worker: WorkerCounts, now: number): string {
  return worker.lastSeen === null ? '-' : ago(worker.lastSeen, now);
}

/**
 * The workers `forget` names: every one of `names` (all must be known, or
 * nothing is forgotten), or with `stale` those silent for longer than that.
 */
function chooseForgotten(workers: readonly WorkerCounts[], names: readonly string[], stale: number | undefined, now: number): WorkerCounts[] {
  if (stale !== undefined) return workers.filter((w) => w.lastSeen !== null && now - w.lastSeen > stale);
  const byName = new Map(workers.map((w) => [w.name, w]));
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    const which = unknown.length === 1 ? `no worker ${unknown[0]}` : `no workers named ${unknown.join(', ')}`;
    throw new NotFoundError(`${which}; nothing was forgotten (see "qless-ts workers")`);
  }
  return [...new Set(names)].map((name) => byName.get(name)!);
}

export function register(program: Command): void {
  const workers = program
    .command('workers')
    .description('the workers the core knows, when each was last seen, and how many jobs each holds; forget stale ones');

  workers
    .command('list', { isDefault: true })
    .description('every worker the core knows (most recently seen first), with its jobs and when it was last seen')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const listing = await client.workers.counts();
        const now = client.now();
        ctx.emit(listing, () =>
          listing.length === 0
            ? ['no workers']
            : table(
                ['worker', 'jobs', 'stalled', 'last seen'],
                listing.map((w) => [w.name, String(w.jobs), String(w.stalled), lastSeen(w, now)]),
                ['left', 'right', 'right', 'left'],
              ),
        );
      }),
    );

  workers
    .command('forget [names...]')
    .description('forget workers (a worker that is still running reappears on its next pop or heartbeat; its jobs are untouched)')
    .option('--stale <seconds>', 'forget every worker not seen for more than this many seconds', parse.positive)
    .addHelpText('after', '\nExamples:\n  qless-ts workers forget gnome-box-4121 gnome-box-4122\n  qless-ts workers forget --stale 3600')
    .action(
      action(async (ctx, opts: { stale?: number }, names: string[]) => {
        if (names.length > 0 && opts.stale !== undefined) throw new UsageError('give either worker names or --stale <seconds>, not both');
        if (names.length === 0 && opts.stale === undefined) throw new UsageError('name the workers to forget, or give --stale <seconds>');
        const client = await ctx.client();
        const now = client.now();
        const forgotten = chooseForgotten(await client.workers.counts(), names, opts.stale, now);
        await client.workers.deregister(...forgotten.map((w) => w.name));
        ctx.emit({ forgotten: forgotten.map((w) => w.name) }, () => {
          if (forgotten.length === 0) return [`no worker has been silent for more than ${duration(opts.stale!)}`];
          return forgotten.map((w) => {
            const held = w.jobs > 0 ? `; it still holds ${w.jobs} ${w.jobs === 1 ? 'job' : 'jobs'} and reappears if it heartbeats` : '';
            return `forgot ${w.name} (last seen ${lastSeen(w, now)}${held})`;
          });
        });
      }),
    );

  program
    .command('worker <name>')
    .description('the jobs one worker holds, and those whose lock it let expire (stalled)')
    .action(
      action(async (ctx, _opts: object, name: string) => {
        const client = await ctx.client();
        const [held, known] = await Promise.all([client.workers.get(name), client.workers.counts()]);
        const listed = known.find((w) => w.name === name);
        if (listed === undefined && held.jobs.length === 0 && held.stalled.length === 0) {
          throw new NotFoundError(`no worker ${name}`);
        }
        const [jobs, stalled] = await Promise.all([jobRows(client, held.jobs), jobRows(client, held.stalled)]);
        const header = ['jid', 'klass', 'queue', 'state', 'lock'];
        const seen = listed === undefined ? '' : `, last seen ${lastSeen(listed, client.now())}`;
        ctx.emit({ name, ...held, lastSeen: listed?.lastSeen ?? null }, () => [
          `${name}: ${held.jobs.length} ${held.jobs.length === 1 ? 'job' : 'jobs'}, ${held.stalled.length} stalled${seen}`,
          ...(jobs.length > 0 ? ['', 'jobs', ...table(header, jobs).map((l) => `  ${l}`)] : []),
          ...(stalled.length > 0 ? ['', 'stalled', ...table(header, stalled).map((l) => `  ${l}`)] : []),
        ]);
      }),
    );
}
