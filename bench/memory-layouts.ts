/**
 * What a job would cost Redis if the core stored it differently: writes
 * 50,000 jobs the way the core leaves them after a put (waiting) and after
 * pop + complete (completed and kept), first exactly as today's core does,
 * then in each layout of the memory proposal in bench/RESULTS.md, every
 * step adding to the one before, and reports `used_memory` growth per job.
 * The layouts are written with plain Redis commands: this measures the
 * storage only, and no core is changed or needed.
 *
 *   node --import tsx bench/memory-layouts.ts [--jobs 50000]
 *
 * Every job keeps its member in the queue's sorted set (waiting) or in
 * `ql:completed` (completed), except in step 7, which lists waiting jobs:
 * the sets are how qless pops and expires jobs, and their members are the
 * 32-character jids clients choose.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { DEFAULT_KEYS as KEYS } from '../src/keys.js';
import { usedMemory } from './lib/memory.js';
import { requireRedisServer } from './lib/redis-stats.js';

type Stage = 'waiting' | 'completed';

/** One synthetic job, with the values the benchmark's jobs have. */
interface SampleJob {
  jid: string;
  data: string;
  put: number;
  popped: number;
  done: number;
}

interface Stored {
  fields: Record<string, string>;
  /** Entries of `ql:j:<jid>-history`, or none when the layout keeps no list. */
  history?: string[];
  /** A waiting job's place in line is a list entry instead of a sorted set member (step 7). */
  listed?: boolean;
}

/** One step of the proposal: how it changes what a job stores. */
interface Step {
  name: string;
  apply(stored: Stored, job: SampleJob, stage: Stage): Stored;
}

const QUEUE = 'bench';
const WORKER = 'bench-worker';

/** History entries as the core writes them (spec section 10). */
function historyEntries(job: SampleJob, stage: Stage): string[] {
  const entries = [`[${Math.floor(job.put)},"put",{"q":"${QUEUE}"}]`];
  if (stage === 'completed') entries.push(`[${Math.floor(job.popped)},"popped",{"worker":"${WORKER}"}]`, `[${Math.floor(job.done)},"done"]`);
  return entries;
}

/** The `time` field: 20 decimals, as the core writes it today. */
function timeText20(job: SampleJob, stage: Stage): string {
  return (stage === 'waiting' ? job.put : job.done).toFixed(20);
}

function today(job: SampleJob, stage: Stage): Stored {
  const fields: Record<string, string> = {
    jid: job.jid,
    klass: 'bench.Noop',
    data: job.data,
    priority: '0',
    tags: '{}',
    state: stage === 'waiting' ? 'waiting' : 'complete',
    worker: '',
    expires: '0',
    queue: stage === 'waiting' ? QUEUE : '',
    retries: '5',
    remaining: '5',
    time: timeText20(job, stage),
  };
  if (stage === 'completed') fields['failure'] = '{}';
  return { fields, history: historyEntries(job, stage) };
}

/** Drop the fields whose value the core would read back as the default. */
function withoutDefaults(fields: Record<string, string>): Record<string, string> {
  const defaults: Record<string, string> = { priority: '0', tags: '{}', worker: '', expires: '0', retries: '5', failure: '{}' };
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (defaults[name] === value) continue;
    if (name === 'remaining' && value === fields['retries']) continue;
    if (name === 'queue' && value === '' && fields['state'] === 'complete') continue;
    kept[name] = value;
  }
  return kept;
}

/**
 * History coded compactly: one letter for what happened, times as seconds
 * after the previous entry, the item's one value after a colon, entries
 * separated by `|` (`p1796500599:bench|o10:bench-worker|d0` for put,
 * popped, done); the first entry's time is absolute.
 */
function compactHistory(job: SampleJob, stage: Stage): string {
  const put = Math.floor(job.put);
  const parts = [`p${put}:${QUEUE}`];
  if (stage === 'completed') {
    const popped = Math.floor(job.popped);
    parts.push(`o${popped - put}:${WORKER}`, `d${Math.floor(job.done) - popped}`);
  }
  return parts.join('|');
}

const HISTORY_FIELD = /^h\d*$/;

/** The proposal's steps, in order (bench/RESULTS.md numbers them the same way). */
const STEPS: Step[] = [
  {
    // One field per entry, not one JSON array: a hash whose values all stay
    // within hash-max-listpack-value (64 bytes) stays a listpack, and one
    // longer value turns it into a hash table at about twice the size.
    name: '1. history entries as fields of the job hash (`h1`, `h2`, … the same JSON texts), no `-history` key',
    apply: ({ fields, history = [] }) => ({ fields: { ...fields, ...Object.fromEntries(history.map((entry, i) => [`h${i + 1}`, entry])) } }),
  },
  {
    name: '2. fields equal to their defaults not stored (priority, tags, worker, expires, retries, remaining, failure, empty queue)',
    apply: (stored) => ({ ...stored, fields: withoutDefaults(stored.fields) }),
  },
  {
    name: '3. `time` as the shortest text that reads back as the same double (17 instead of 31 characters)',
    apply: (stored, job, stage) => ({ ...stored, fields: { ...stored.fields, time: String(stage === 'waiting' ? job.put : job.done) } }),
  },
  {
    name: '4. no `jid` field (the key name holds it)',
    apply: (stored) => ({ ...stored, fields: Object.fromEntries(Object.entries(stored.fields).filter(([name]) => name !== 'jid')) }),
  },
  {
    name: '5. history coded compactly (`p<time>:<queue>|o<+s>:<worker>|d<+s>`, one field `h`); none stored for a lone put',
    apply: ({ fields }, job, stage) => {
      const rest = Object.fromEntries(Object.entries(fields).filter(([name]) => !HISTORY_FIELD.test(name)));
      return { fields: stage === 'waiting' ? rest : { ...rest, h: compactHistory(job, stage) } };
    },
  },
  {
    name: '6. one-letter field names (`k`, `d`, `s`, `q`, `t`)',
    apply: (stored) => {
      const short: Record<string, string> = { klass: 'k', data: 'd', state: 's', queue: 'q', time: 't' };
      return { ...stored, fields: Object.fromEntries(Object.entries(stored.fields).map(([name, value]) => [short[name] ?? name, value])) };
    },
  },
  {
    // Not byte-identical in every case: a list keeps the order of arrival,
    // the sorted set the order of the clients' clocks (see RESULTS.md).
    name: '7. a waiting job of default priority listed in arrival order (a list) instead of the sorted set',
    apply: (stored, _job, stage) => (stage === 'waiting' ? { ...stored, listed: true } : stored),
  },
];

function sampleJobs(count: number): SampleJob[] {
  const start = Date.now() / 1000;
  return Array.from({ length: count }, (_, i) => {
    // A time with microseconds, as a client's clock gives it.
    const put = Math.round((start + i * 0.00002) * 1e6) / 1e6;
    const popped = put + 10.123457;
    return { jid: randomUUID().replace(/-/g, ''), data: `{"i":${i}}`, put, popped, done: popped + 0.000321 };
  });
}

type Store = (job: SampleJob, stage: Stage) => Stored;

async function write(redis: Redis, store: Store, jobs: SampleJob[], stage: Stage): Promise<void> {
  for (let first = 0; first < jobs.length; first += 1000) {
    const pipeline = redis.pipeline();
    for (const job of jobs.slice(first, first + 1000)) {
      const { fields, history, listed } = store(job, stage);
      pipeline.hset(KEYS.jobKeys(job.jid)[0]!, fields);
      if (history) pipeline.rpush(KEYS.jobKeys(job.jid)[1]!, ...history);
      if (stage === 'completed') pipeline.zadd(KEYS.completed, String(job.done), job.jid);
      else if (listed) pipeline.rpush(`${KEYS.queueWork(QUEUE)}-fifo`, job.jid);
      else pipeline.zadd(KEYS.queueWork(QUEUE), String(0 - job.put / 1e10), job.jid);
    }
    await pipeline.exec();
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('memory-layouts')
    .description('Redis bytes per job for the storage layouts of the memory proposal (bench/RESULTS.md)')
    .option('--jobs <count>', 'jobs written per layout and stage', '50000');
  program.parse();
  const count = Number(program.opts<{ jobs: string }>().jobs);
  requireRedisServer();
  const server = await RedisServer.start();
  const redis = new Redis(server.url);
  try {
    const jobs = sampleJobs(count);
    const measure = async (store: Store): Promise<Record<Stage, number>> => {
      const bytes: Record<Stage, number> = { waiting: 0, completed: 0 };
      for (const stage of ['waiting', 'completed'] as const) {
        await redis.flushall();
        const base = await usedMemory(redis);
        await write(redis, store, jobs, stage);
        bytes[stage] = ((await usedMemory(redis)) - base) / count;
      }
      return bytes;
    };
    const upTo = (k: number): Store => (job, stage) => STEPS.slice(0, k).reduce((stored, step) => step.apply(stored, job, stage), today(job, stage));
    const base = await measure(today);
    console.log(`${count.toLocaleString('en-US')} jobs of {"i":n} per layout: used_memory growth per job, in bytes (waiting / completed and kept)\n`);
    console.log(`Today's layout (job hash, \`-history\` list, set member): ${base.waiting.toFixed(0)} / ${base.completed.toFixed(0)}\n`);
    console.log('| step | with the steps before it | saved by this step | this step alone, from today | saved alone |');
    console.log('|---|---:|---:|---:|---:|');
    let previous = base;
    for (const [i, step] of STEPS.entries()) {
      const cumulative = await measure(upTo(i + 1));
      const alone = await measure((job, stage) => step.apply(today(job, stage), job, stage));
      const pair = (b: Record<Stage, number>): string => `${b.waiting.toFixed(0)} / ${b.completed.toFixed(0)}`;
      const saved = (from: Record<Stage, number>, to: Record<Stage, number>): string =>
        `${(from.waiting - to.waiting).toFixed(0)} / ${(from.completed - to.completed).toFixed(0)}`;
      console.log(`| ${step.name} | ${pair(cumulative)} | ${saved(previous, cumulative)} | ${pair(alone)} | ${saved(base, alone)} |`);
      previous = cumulative;
    }
  } finally {
    redis.disconnect();
    await server.dispose();
  }
}

await main();
