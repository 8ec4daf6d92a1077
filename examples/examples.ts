/**
 * The examples, as data: which jobs each one puts, which queues and worker
 * options run them, and what to print once they are done. Used by
 * `examples/put.ts` (put one example's jobs), `examples/quickstart.ts` (all
 * of them, with a worker) and test/examples.test.ts.
 *
 * The job modules live in examples/jobs/, the worker's --path. Keys the jobs
 * write themselves (the pantry, the sweeping log) are named per run and
 * passed in the jobs' data, so that an example never touches a key it did
 * not create, even in a Redis that holds other data.
 */
import { randomBytes } from 'node:crypto';
import * as qless from '../src/index.js';
// In your own project: import * as qless from 'qless-ts';
import { GnomesJob } from './jobs/gnomes.js';
import { GnomesJob as OneMethodGnomes } from './jobs/gnomes_process.js';
import { BuyEggs, BuyPan, MakeOmelette } from './jobs/kitchen.js';
import { Sweep } from './jobs/chores.js';
import { Fetch } from './jobs/fetcher.js';

/** One run of the examples: the names of the keys its jobs may write. */
export interface ExampleRun {
  readonly id: string;
  /** The key `name` of this run (`qless-ts-examples:<id>:<name>`). */
  key(name: string): string;
  /** Every key handed out by {@link ExampleRun.key} so far. */
  readonly keys: ReadonlySet<string>;
}

/** A fresh run with its own key names. */
export function newRun(id = randomBytes(4).toString('hex')): ExampleRun {
  const keys = new Set<string>();
  return {
    id,
    keys,
    key(name) {
      const key = `qless-ts-examples:${id}:${name}`;
      keys.add(key);
      return key;
    },
  };
}

export interface Example {
  name: string;
  what: string;
  /** Queues a worker must pop for this example, in order. */
  queues: string[];
  /** Extra worker options the example wants. */
  options: string[];
  /**
   * Jids the example gives its jobs or templates itself (the others are
   * random): in a Redis shared with other work they must not exist yet.
   */
  fixedJids?: string[];
  /** Recurring templates it makes (stopped when the run ends). */
  templates?: string[];
  /** Put the example's jobs; returns the jids to wait for. */
  put(client: qless.Client, run: ExampleRun): Promise<string[]>;
  /** One line per job once done. */
  report(client: qless.Client, jids: string[], run: ExampleRun): Promise<string[]>;
}

async function jobsOf(client: qless.Client, jids: string[]): Promise<qless.Job[]> {
  const jobs = await client.jobs.multiget(jids);
  return jids.map((jid) => jobs.find((job) => job.jid === jid)).filter((job): job is qless.Job => job !== undefined);
}

const GNOMES = ['Kenny', 'Stan', 'Eric'];
const SWEEP = 'sweep-kitchen';

export const EXAMPLES: readonly Example[] = [
  {
    name: 'gnomes',
    what: 'the gnomes\' pipeline, one static method per queue: underpants → unknown → profit',
    queues: ['underpants', 'unknown', 'profit'],
    options: [],
    async put(client) {
      const queue = client.queue('underpants');
      return Promise.all(GNOMES.map((gnome) => queue.put(GnomesJob, { gnome })));
    },
    async report(client, jids) {
      return (await jobsOf(client, jids)).map((job) => `${job.data['gnome']}: ${job.state} after ${String(job.data['steps'])}, profit ${String(job.data['profit'])}`);
    },
  },
  {
    name: 'gnomes-process',
    what: 'the same pipeline with a single `process` method that branches on the queue',
    queues: ['underpants', 'unknown', 'profit'],
    options: [],
    async put(client) {
      return [await client.queue('underpants').put(OneMethodGnomes, { gnome: 'Butters' })];
    },
    async report(client, jids) {
      return (await jobsOf(client, jids)).map((job) => `${job.data['gnome']}: ${job.state} after ${String(job.data['steps'])}`);
    },
  },
  {
    name: 'omelette',
    what: 'dependencies: the omelette waits until the eggs and the pan are bought',
    queues: ['buy_eggs', 'buy_pan', 'cook'],
    options: [],
    async put(client, run) {
      const pantry = run.key('pantry');
      const eggs = await client.queue('buy_eggs').put(BuyEggs, { count: 3, pantry });
      const pan = await client.queue('buy_pan').put(BuyPan, { pantry });
      const omelette = await client.queue('cook').put(MakeOmelette, { pantry }, { depends: [eggs, pan] });
      return [eggs, pan, omelette];
    },
    async report(client, jids) {
      const omelette = (await jobsOf(client, jids)).find((job) => job.klass === MakeOmelette.klass);
      return [`omelette: ${omelette?.state} with ${String(omelette?.data['made_with'])}`];
    },
  },
  {
    name: 'recurring',
    what: 'a recurring job: the core puts a sweep every second; the worker runs two of them',
    queues: ['chores'],
    options: ['--interval', '0.5'],
    fixedJids: [SWEEP],
    templates: [SWEEP],
    async put(client, run) {
      const jid = await client.queue('chores').recur(Sweep, { room: 'the kitchen', log: run.key('swept') }, { interval: 1, jid: SWEEP });
      return [`${jid}-1`, `${jid}-2`];
    },
    async report(client, jids, run) {
      const swept = await client.redis.lrange(run.key('swept'), 0, -1);
      return jids.map((jid) => swept.find((line) => line.startsWith(`${jid} `)) ?? `${jid} not swept`);
    },
  },
  {
    name: 'io',
    what: 'I/O-bound jobs: twenty half-second waits, ten at a time in each worker child (--concurrency 10)',
    queues: ['fetch'],
    options: ['--concurrency', '10'],
    async put(client) {
      const queue = client.queue('fetch');
      return Promise.all(Array.from({ length: 20 }, (_, i) => queue.put(Fetch, { ms: 500, n: i })));
    },
    async report(client, jids) {
      const jobs = await jobsOf(client, jids);
      const done = jobs.filter((job) => job.state === 'complete');
      // Each job notes when it started and finished (milliseconds): the
      // history's times are whole seconds, too coarse for half-second jobs.
      const starts = done.map((job) => Number(job.data['started_at']));
      const ends = done.map((job) => Number(job.data['finished_at']));
      const span = done.length > 0 ? (Math.max(...ends) - Math.min(...starts)) / 1000 : 0;
      return [`${done.length} of ${jobs.length} fetches done in ${span.toFixed(1)} s of wall time (${(jobs.length * 0.5).toFixed(0)} s of waiting in all)`];
    },
  },
];

/** The worker's command line for a set of examples. */
export function workerArgs(examples: readonly Example[]): string[] {
  const queues = [...new Set(examples.flatMap((e) => e.queues))];
  const options = new Map<string, string>();
  for (const example of examples) {
    for (let i = 0; i < example.options.length; i += 2) {
      const flag = example.options[i]!;
      const value = example.options[i + 1]!;
      // The most demanding value wins: smallest interval, largest concurrency.
      const current = options.get(flag);
      if (current === undefined) options.set(flag, value);
      else if (flag === '--interval') options.set(flag, String(Math.min(Number(current), Number(value))));
      else options.set(flag, String(Math.max(Number(current), Number(value))));
    }
  }
  return ['--path', 'examples/jobs', ...queues.flatMap((q) => ['-q', q]), ...[...options].flat()];
}

/** Whether every job is finished (complete or failed). */
export async function finished(client: qless.Client, jids: string[]): Promise<boolean> {
  const jobs = await client.jobs.multiget(jids);
  return jobs.length === jids.length && jobs.every((job) => job.state === 'complete' || job.state === 'failed');
}
