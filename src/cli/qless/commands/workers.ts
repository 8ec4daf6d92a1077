/** `workers`, `worker <name>`. */
import type { Command } from 'commander';
import type { Client } from '../../../client.js';
import { action } from '../context.js';
import { NotFoundError } from '../exit.js';
import { orDash, table, until } from '../format.js';

/** Rows describing jobs by jid, in the order given (jobs gone meanwhile are left out). */
async function jobRows(client: Client, jids: readonly string[]): Promise<string[][]> {
  if (jids.length === 0) return [];
  const now = client.now();
  const jobs = await client.jobs.multiget(jids);
  return jobs.map((job) => [job.jid, job.klass, orDash(job.queue), job.state, job.expires > 0 ? until(job.expires, now) : '-']);
}

export function register(program: Command): void {
  program
    .command('workers')
    .description('the workers the core knows (most recently seen first) and how many jobs each holds')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const workers = await client.workers.counts();
        ctx.emit(workers, () =>
          workers.length === 0 ? ['no workers'] : table(['worker', 'jobs', 'stalled'], workers.map((w) => [w.name, String(w.jobs), String(w.stalled)]), ['left', 'right', 'right']),
        );
      }),
    );

  program
    .command('worker <name>')
    .description('the jobs one worker holds, and those whose lock it let expire (stalled)')
    .action(
      action(async (ctx, _opts: object, name: string) => {
        const client = await ctx.client();
        const [held, known] = await Promise.all([client.workers.get(name), client.workers.counts()]);
        if (!known.some((w) => w.name === name) && held.jobs.length === 0 && held.stalled.length === 0) {
          throw new NotFoundError(`no worker ${name}`);
        }
        const [jobs, stalled] = await Promise.all([jobRows(client, held.jobs), jobRows(client, held.stalled)]);
        const header = ['jid', 'klass', 'queue', 'state', 'lock'];
        ctx.emit({ name, ...held }, () => [
          `${name}: ${held.jobs.length} ${held.jobs.length === 1 ? 'job' : 'jobs'}, ${held.stalled.length} stalled`,
          ...(jobs.length > 0 ? ['', 'jobs', ...table(header, jobs).map((l) => `  ${l}`)] : []),
          ...(stalled.length > 0 ? ['', 'stalled', ...table(header, stalled).map((l) => `  ${l}`)] : []),
        ]);
      }),
    );
}
