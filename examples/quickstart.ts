/**
 * The quickstart: `npm run quickstart [-- --redis <url>]`.
 *
 * Puts the jobs of every example (examples/examples.ts), runs
 * `qless-ts-worker` on them until they are done, prints what happened, and
 * stops the worker.
 *
 * By default it starts a private redis-server on a free port and stops it
 * at the end, so it never writes anywhere else. It uses an existing Redis
 * only when named (`--redis <url>`, else `$QLESS_REDIS_URL`); then it first
 * makes sure the examples' queues do not exist there (its worker would run
 * whatever they hold), and at the end removes every job, queue, worker and
 * key it created (examples/cleanup.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import * as qless from '../src/index.js';
import { RedisServer } from '../src/dev/redis-server.js';
import { plainMessage } from '../src/messages.js';
import { eraseRun } from './cleanup.js';
import { EXAMPLES, finished, newRun, workerArgs } from './examples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The URL without its password, for printing. */
function printable(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Why the named Redis cannot host a run without touching other work, or `undefined` when it can. */
async function conflicts(client: qless.Client): Promise<string | undefined> {
  const existing = new Set((await client.queues.counts()).map((q) => q.name));
  const queues = [...new Set(EXAMPLES.flatMap((e) => e.queues))].filter((q) => existing.has(q));
  if (queues.length > 0) {
    return `it already has the queue(s) ${queues.join(', ')}, which the quickstart's worker would pop from`;
  }
  for (const jid of EXAMPLES.flatMap((e) => e.fixedJids ?? [])) {
    if ((await client.jobs.get(jid)) !== null) return `it already has a job or recurring job ${jid}, which the quickstart would replace`;
  }
  return undefined;
}

const options = new Command('quickstart')
  .description('Run every example in examples/ through qless-ts-worker and print what each job did.')
  .addOption(new Option('--redis <url>', "use this Redis instead of a private redis-server (the run's own data is removed at the end)").env('QLESS_REDIS_URL'))
  .addHelpText('after', '\nWithout --redis (or QLESS_REDIS_URL) a private redis-server is started on a free port and stopped at the end.')
  .parse(process.argv)
  .opts<{ redis?: string }>();

const named = options.redis !== undefined && options.redis !== '' ? options.redis : undefined;
let server: RedisServer | undefined;
let url: string;
if (named === undefined) {
  server = await RedisServer.start();
  url = server.url;
  console.log(`Started a private redis-server at ${url} for this run (stopped at the end; --redis <url> uses yours instead).`);
} else {
  url = named;
}

// Fail fast rather than retry forever if the named Redis does not answer.
const client = qless.client(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
const run = newRun();
const workerName = `quickstart-${run.id}`;
const since = client.now();
const created: string[] = [];
// Set once the named Redis is known to hold none of the examples' queues:
// from then on, whatever the run leaves there is its own and is removed.
let mustErase = false;
let worker: ChildProcess | undefined;
let code = 1;

/** Stop the worker (gracefully; at once if it takes more than ten seconds) and wait until it is gone. */
async function stopWorker(): Promise<void> {
  const child = worker;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

try {
  if (named !== undefined) {
    const problem = await conflicts(client);
    if (problem !== undefined) throw new Error(`not using the Redis at ${printable(url)}: ${problem}. Run without --redis for a private one`);
    mustErase = true;
    console.log(`Using the Redis at ${printable(url)}; everything this run creates there is removed at the end.`);
  }

  const waiting = new Map<string, string[]>();
  for (const example of EXAMPLES) {
    const jids = await example.put(client, run);
    waiting.set(example.name, jids);
    created.push(...jids);
    console.log(`put ${String(jids.length).padStart(2)} job(s): ${example.what}`);
  }

  const args = [join(ROOT, 'bin', 'qless-ts-worker.js'), '--host', url, ...workerArgs(EXAMPLES), '--workers', '2', '--name', workerName];
  console.log(`\nstarting: qless-ts-worker ${args.slice(1).join(' ').replace(url, printable(url))}\n`);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  worker = child;
  // The worker logs pino JSON; show its warnings and failures, one short line each.
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as { msg?: string; klass?: string; queue?: string; level?: number };
        if ((entry.level ?? 0) >= 40) console.log(`  [worker] ${entry.msg}${entry.klass ? ` (${entry.klass} in ${entry.queue})` : ''}`);
      } catch {
        // not a log line
      }
    }
  });

  const all = [...waiting.values()].flat();
  const deadline = Date.now() + 60_000;
  let ok = true;
  while (!(await finished(client, all))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      ok = false;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopWorker();

  console.log(ok ? 'Everything ran:' : 'Not everything ran in time:');
  for (const example of EXAMPLES) {
    console.log(`- ${example.name}`);
    for (const line of await example.report(client, waiting.get(example.name) ?? [], run)) console.log(`    ${line}`);
  }
  code = ok ? 0 : 1;
} catch (error) {
  console.error(`quickstart: ${plainMessage(error, printable(url))}`);
} finally {
  await stopWorker();
  if (mustErase) {
    try {
      await eraseRun(client, {
        jids: created,
        templates: EXAMPLES.flatMap((e) => e.templates ?? []),
        queues: [...new Set(EXAMPLES.flatMap((e) => e.queues))],
        workerPrefix: workerName,
        keys: run.keys,
        since,
      });
      console.log(`\nRemoved this run's jobs, queues, workers and keys from ${printable(url)}.`);
    } catch (error) {
      console.error(`quickstart: could not remove everything this run created: ${plainMessage(error, printable(url))}`);
      code = 1;
    }
  }
  await client.close();
  await server?.dispose();
}
if (code === 0) console.log('\nNext: edit a module in examples/jobs/ while a worker runs; the next job uses the new code.');
process.exit(code);
