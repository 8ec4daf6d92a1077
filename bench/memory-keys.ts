/**
 * What a job costs Redis, key by key: runs workload M (the benchmark's
 * memory figure) for each system on a fresh private server, and once the
 * jobs wait and once they are completed, lists every kind of key with its
 * type, encoding and MEMORY USAGE per job, then one job's hash field by
 * field and its other per-job keys entry by entry.
 *
 *   node --import tsx bench/memory-keys.ts [--jobs 50000] [--systems qless-ts,BullMQ] [--layout compact]
 *
 * `--layout compact` stores the qless-ts jobs in the core's compact layout
 * (option job-layout, see the README's "Configuration").
 *
 * Per-job keys (a jid or a numeric id in the name) are measured on a sample
 * and scaled up; shared keys (queues, sets, streams) are measured whole.
 * What no key's MEMORY USAGE covers (the keyspace's bucket array, allocator
 * rounding, client buffers) is shown as the difference to used_memory.
 */
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { benchContext } from './lib/context.js';
import { requireRedisServer } from './lib/redis-stats.js';
import type { System } from './lib/types.js';
import { BullMQSystem } from './systems/bullmq.js';
import { QlessSystem } from './systems/qless.js';

interface Options {
  jobs: string;
  systems: string;
  sample: string;
  layout: string;
}

/** A key's name with its job id replaced, so that keys of the same kind group together. */
function patternOf(key: string): { pattern: string; perJob: boolean } {
  const jid = key.replace(/[0-9a-f]{32}/, '<jid>');
  if (jid !== key) return { pattern: jid, perJob: true };
  const id = key.replace(/^(bull:[^:]+:)\d+(?=$|:)/, '$1<id>');
  if (id !== key) return { pattern: id, perJob: true };
  return { pattern: key, perJob: false };
}

async function allKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

interface KeyGroup {
  pattern: string;
  perJob: boolean;
  keys: string[];
}

async function describe(redis: Redis, key: string): Promise<string> {
  const [type, encoding] = await Promise.all([redis.type(key), redis.object('ENCODING', key)]);
  const size = await (async () => {
    switch (type) {
      case 'hash':
        return `${await redis.hlen(key)} fields`;
      case 'list':
        return `${await redis.llen(key)} entries`;
      case 'zset':
        return `${await redis.zcard(key)} members`;
      case 'set':
        return `${await redis.scard(key)} members`;
      case 'stream':
        return `${await redis.xlen(key)} entries`;
      default:
        return '';
    }
  })();
  return `${type}, ${String(encoding)}${size ? `, ${size}` : ''}`;
}

async function memoryUsage(redis: Redis, key: string): Promise<number> {
  return Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
}

/** The key table: per kind of key, its bytes per job. */
async function keyTable(redis: Redis, jobs: number, grown: number, sample: number): Promise<string> {
  const groups = new Map<string, KeyGroup>();
  for (const key of await allKeys(redis)) {
    const { pattern, perJob } = patternOf(key);
    const group = groups.get(pattern) ?? { pattern, perJob, keys: [] };
    group.keys.push(key);
    groups.set(pattern, group);
  }
  const rows: Array<{ pattern: string; what: string; count: number; perJob: number }> = [];
  for (const group of groups.values()) {
    const measured = group.perJob ? group.keys.slice(0, sample) : group.keys;
    let bytes = 0;
    for (const key of measured) bytes += await memoryUsage(redis, key);
    const total = (bytes / measured.length) * group.keys.length;
    const what = group.perJob ? `${await describe(redis, group.keys[0]!)} (one of them)` : await describe(redis, group.keys[0]!);
    rows.push({ pattern: group.pattern, what, count: group.keys.length, perJob: total / jobs });
  }
  rows.sort((a, b) => b.perJob - a.perJob);
  const sum = rows.reduce((total, row) => total + row.perJob, 0);
  const lines = ['| key | type, encoding, size | keys | bytes per job |', '|---|---|---:|---:|'];
  for (const row of rows) {
    if (row.perJob < 0.05) continue;
    lines.push(`| \`${row.pattern}\` | ${row.what} | ${row.count.toLocaleString('en-US')} | ${row.perJob.toFixed(1)} |`);
  }
  lines.push(`| all keys, MEMORY USAGE | | | ${sum.toFixed(1)} |`);
  lines.push(`| used_memory growth | | | ${(grown / jobs).toFixed(1)} |`);
  lines.push(`| not in any key's MEMORY USAGE (keyspace table, rounding, buffers) | | | ${(grown / jobs - sum).toFixed(1)} |`);
  return lines.join('\n');
}

function shown(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 57)}…` : text;
  return `\`${cut.replace(/\|/g, '\\|')}\``;
}

/** One job's keys in detail: hash fields with their sizes, list entries. */
async function jobDetail(redis: Redis): Promise<string> {
  const keys = (await allKeys(redis)).filter((key) => patternOf(key).perJob).sort();
  const hashes = [];
  for (const key of keys) if ((await redis.type(key)) === 'hash') hashes.push(key);
  const hash = hashes[Math.floor(hashes.length / 2)];
  if (hash === undefined) return '(no per-job hash found)';
  const lines: string[] = [];
  // The job's other keys extend its hash's name: `ql:j:<jid>-history`, `bull:<queue>:<id>:logs`.
  const related = keys.filter((key) => key === hash || key.startsWith(`${hash}-`) || key.startsWith(`${hash}:`));
  for (const key of related) {
    lines.push(`\`${key}\`: ${await describe(redis, key)}, MEMORY USAGE ${await memoryUsage(redis, key)} B`, '');
    const type = await redis.type(key);
    if (type === 'hash') {
      const fields = await redis.hgetall(key);
      let nameBytes = 0;
      let valueBytes = 0;
      lines.push('| field | name bytes | value bytes | value |', '|---|---:|---:|---|');
      for (const [field, value] of Object.entries(fields)) {
        const n = Buffer.byteLength(field);
        const v = Buffer.byteLength(value);
        nameBytes += n;
        valueBytes += v;
        lines.push(`| ${field} | ${n} | ${v} | ${shown(value)} |`);
      }
      lines.push(`| all ${Object.keys(fields).length} fields | ${nameBytes} | ${valueBytes} | |`, '');
    } else if (type === 'list') {
      const entries = await redis.lrange(key, 0, -1);
      lines.push('| entry | bytes |', '|---|---:|');
      for (const entry of entries) lines.push(`| ${shown(entry)} | ${Buffer.byteLength(entry)} |`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

async function inspect(system: System, jobs: number, sample: number): Promise<void> {
  const server = await RedisServer.start();
  const stats = new Redis(server.url);
  try {
    const limits = await stats.config('GET', '*-max-listpack-*');
    console.log(`## ${system.name}, ${jobs.toLocaleString('en-US')} jobs\n`);
    console.log(`Redis encoding limits: ${(limits as string[]).join(' ')}\n`);
    const ctx = benchContext(server, stats, { n: 0, daemonJobs: 0, latencySamples: 0, memoryJobs: jobs });
    ctx.memoryProbe = async (stage, bytes) => {
      console.log(`### ${stage}: used_memory grew ${(bytes / jobs).toFixed(1)} B per job\n`);
      console.log(await keyTable(stats, jobs, bytes, sample));
      console.log(`\nOne ${stage} job:\n`);
      console.log(await jobDetail(stats));
    };
    const measurement = await system.run('M', ctx);
    if (measurement.kind === 'memory') console.log(`Retention: ${measurement.retention}.\n`);
  } finally {
    stats.disconnect();
    await server.dispose();
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('memory-keys')
    .description('Redis memory per job, key by key and field by field, for qless-ts and BullMQ')
    .option('--jobs <count>', 'jobs put (then completed), as in workload M', '50000')
    .option('--systems <names>', 'qless-ts, BullMQ or both', 'qless-ts,BullMQ')
    .option('--sample <count>', 'per-job keys measured with MEMORY USAGE, per kind of key', '500')
    .option('--layout <layout>', 'how qless-ts stores its jobs: spec (today\'s layout) or compact (core option job-layout)', 'spec');
  program.parse();
  const options = program.opts<Options>();
  requireRedisServer();
  if (options.layout !== 'spec' && options.layout !== 'compact') throw new Error(`unknown layout ${options.layout} (use spec or compact)`);
  const systems: System[] = [new QlessSystem(options.layout), new BullMQSystem()];
  for (const name of options.systems.split(',').map((s) => s.trim())) {
    // (qless-ts names the qless-ts system in either layout.)
    const system = systems.find((candidate) => candidate.name === name || (name === 'qless-ts' && candidate instanceof QlessSystem));
    if (!system) throw new Error(`unknown system ${name} (use qless-ts or BullMQ)`);
    await inspect(system, Number(options.jobs), Number(options.sample));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`memory-keys: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
