/** `put <queue> <klass>` and `put --file jobs.ndjson`. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseJobs, putJobs } from '../bulk.js';
import { action, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { requireDependencies } from '../known.js';
import * as parse from '../parse.js';
import { progress } from '../progress.js';
import type { PutOptions } from '../../../queue.js';
import type { JsonObject } from '../../../types.js';

interface PutFlags {
  data?: JsonObject;
  priority?: number;
  tag?: string[];
  delay?: number;
  retries?: number;
  depends?: string[];
  throttle?: string[];
  jid?: string;
  file?: string;
  force?: boolean;
}

async function readSource(ctx: Context, file: string): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.streams.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function bulk(ctx: Context, file: string): Promise<void> {
  const source = file === '-' ? 'stdin' : file;
  // Validate everything before connecting: a bad file never touches Redis.
  const jobs = parseJobs(await readSource(ctx, file), source);
  const client = await ctx.client({ pipelining: true });
  // Load the script once up front rather than have the first window's
  // puts each meet NOSCRIPT and load it.
  await client.gateway.load();
  const bar = await progress(ctx.streams.stderr, jobs.length, 'put');
  const jids = await putJobs(client, jobs, bar);
  ctx.emit({ put: jids.length, jids }, () => [`put ${jids.length} ${jids.length === 1 ? 'job' : 'jobs'} from ${source}`]);
}

export function register(program: Command): void {
  program
    .command('put [queue] [klass]')
    .description('put a job into a queue (prints its jid), or bulk-load jobs from an ndjson file with --file')
    .option('--data <json>', 'the job data, a JSON object (default {})', parse.jsonObject)
    .option('--priority <n>', 'larger numbers pop sooner (default 0)', parse.number)
    .option('--tag <tag>', 'a tag; repeat for several', parse.collect)
    .option('--delay <seconds>', 'seconds before the job can be popped (default 0)', parse.number)
    .option('--retries <n>', 'retries before a lost lock fails the job (default 5)', parse.count)
    .option('--depends <jid>', 'a job that must complete first; repeat for several (each must exist and not be complete)', parse.collect)
    .option('--force', 'with --depends: put the job even if a dependency is missing or complete (it then does not wait for it)')
    .option('--throttle <name>', 'a throttle the job needs a slot of (see `throttles`); repeat for several', parse.collect)
    .option('--jid <jid>', 'the job id (default a random one; an existing jid replaces that job)')
    .option('--file <path>', 'bulk load: one JSON job per line ("-" reads stdin); see the README for the format')
    .addHelpText(
      'after',
      '\nndjson line: {"queue":"q","klass":"mod.Klass","data":{...},"options":{"priority":0,"tags":[],"delay":0,"retries":5,"depends":[],"jid":"..."}}\n' +
        'Every line is validated before anything is written: a bad line is reported with its number and nothing is put.',
    )
    .action(
      action(async (ctx, opts: PutFlags, queue: string | undefined, klass: string | undefined) => {
        if (opts.file !== undefined) {
          const single = ['data', 'priority', 'tag', 'delay', 'retries', 'depends', 'throttle', 'jid', 'force'].filter((k) => opts[k as keyof PutFlags] !== undefined);
          if (queue !== undefined || single.length > 0) {
            throw new UsageError(`--file takes queue, klass and options from each line; do not also give ${queue !== undefined ? 'a queue' : `--${single[0]}`}`);
          }
          return bulk(ctx, opts.file);
        }
        if (queue === undefined || klass === undefined) throw new UsageError('put needs a queue and a klass (or --file)');
        const options: PutOptions = {};
        if (opts.priority !== undefined) options.priority = opts.priority;
        if (opts.tag !== undefined) options.tags = opts.tag;
        if (opts.delay !== undefined) options.delay = opts.delay;
        if (opts.retries !== undefined) options.retries = opts.retries;
        if (opts.depends !== undefined) options.depends = opts.depends;
        if (opts.throttle !== undefined) options.throttles = opts.throttle;
        if (opts.jid !== undefined) options.jid = opts.jid;
        const client = await ctx.client();
        // The core passes over a missing or completed dependency, and the job is waiting at once: a typo would go unnoticed.
        if (opts.depends !== undefined && !opts.force) await requireDependencies(client, opts.depends, 'nothing was put (--force puts it anyway)');
        const jid = await client.queue(queue).put(klass, opts.data ?? {}, options);
        ctx.emit({ jid }, () => [jid]);
      }),
    );
}
