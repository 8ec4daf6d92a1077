/**
 * The quickstart: `npm run quickstart`.
 *
 * Puts the jobs of every example (examples/examples.ts), runs
 * `qless-ts-worker` on them until they are done, prints what happened, and
 * stops the worker. It uses the Redis at $QLESS_REDIS_URL (default
 * redis://127.0.0.1:6379); when nothing answers there it starts a private
 * redis-server on a free port for the duration, and says so.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import * as qless from '../src/index.js';
import { RedisServer } from '../src/dev/redis-server.js';
import { EXAMPLES, finished, workerArgs } from './examples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

let url = process.env['QLESS_REDIS_URL'] || qless.DEFAULT_URL;
let server: RedisServer | undefined;
if (await answers(url)) {
  console.log(`Using the Redis at ${url}.`);
} else {
  server = await RedisServer.start();
  console.log(`Nothing answers at ${url}: started a private redis-server at ${server.url} (stopped at the end).`);
  url = server.url;
}

const client = qless.client(url);
const waiting = new Map<string, string[]>();
for (const example of EXAMPLES) {
  const jids = await example.put(client);
  waiting.set(example.name, jids);
  console.log(`put ${String(jids.length).padStart(2)} job(s): ${example.what}`);
}

const args = [join(ROOT, 'bin', 'qless-ts-worker.js'), '--host', url, ...workerArgs(EXAMPLES), '--workers', '2', '--name', 'quickstart'];
console.log(`\nstarting: qless-ts-worker ${args.slice(1).join(' ')}\n`);
const worker = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
// The worker logs pino JSON; show one short line per finished job.
let partial = '';
worker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
  const lines = (partial + chunk).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { msg?: string; klass?: string; queue?: string; jid?: string; level?: number };
      if (entry.jid && entry.klass && /^job (completed|advanced|failed)/.test(entry.msg ?? '')) {
        console.log(`  [worker] ${entry.msg?.padEnd(13)} ${entry.klass.padEnd(26)} in ${entry.queue}`);
      } else if ((entry.level ?? 0) >= 40) {
        console.log(`  [worker] ${entry.msg}`);
      }
    } catch {
      // not a log line
    }
  }
});

const all = [...waiting.values()].flat();
const deadline = Date.now() + 60_000;
let ok = true;
while (!(await finished(client, all))) {
  if (Date.now() > deadline || worker.exitCode !== null) {
    ok = false;
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}

worker.kill('SIGTERM');
await new Promise((r) => worker.once('exit', r));

console.log(ok ? '\nEverything ran:' : '\nNot everything ran in time:');
for (const example of EXAMPLES) {
  console.log(`- ${example.name}`);
  for (const line of await example.report(client, waiting.get(example.name) ?? [])) console.log(`    ${line}`);
  await example.cleanup?.(client);
}
await client.close();
await server?.dispose();
console.log(`\nNext: edit a module in examples/jobs/ while a worker runs; the next job uses the new code.`);
process.exit(ok ? 0 : 1);
