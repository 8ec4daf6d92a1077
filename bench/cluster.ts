/**
 * The Redis Cluster figure (issue 15): jobs/s on a private cluster of 3
 * primaries with the work in 1 namespace (all of it on one primary) versus
 * spread over 3 namespaces whose hash tags land on the 3 primaries, and the
 * Redis CPU each primary spent per job it served.
 *
 *   node --import tsx bench/cluster.ts [--n 6000] [--runs 3] [--replicas 0] [--json out.json]
 *   npm run bench -- --cluster [--n 6000] [--runs 3]
 *
 * Both layouts run the same drivers (three, each with 50 puts in flight,
 * then two loops of 25 jobs popping, and completing together with the next
 * pop), on a freshly flushed cluster, in one measurement window: one job is
 * one put, one pop and one complete. The only difference is the namespace
 * each driver uses: the same one for all three, or one each. Runs alternate
 * the two layouts (1, 3, 3, 1, …) so that drift of a loaded machine hits
 * both alike; the median run of each is reported.
 *
 * Redis CPU is read from each primary's INFO (used_cpu_user + used_cpu_sys)
 * at the window's edges, for the primaries that served the jobs and for all
 * of them together (a cluster delivers every PUBLISH on every node, so the
 * idle primaries work too); client CPU is this process's. On a machine with
 * fewer cores than primaries + clients, the primaries and the client share
 * cores, which caps what 3 namespaces can gain (see README, "Redis
 * Cluster").
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import * as qless from '../src/index.js';
import { namespacesOnDistinctPrimaries, RedisCluster } from '../src/dev/redis-cluster.js';
import { KeySpace } from '../src/keys.js';
import { inFlight, payload } from './lib/types.js';

const QUEUE = 'bench';
const KLASS = 'bench.Noop';
const DRIVERS = 3;

export interface ClusterBenchOptions {
  /** Jobs per run (split evenly between the drivers). */
  n: number;
  runs: number;
  /** Replicas per primary (default 0: the figure is the primaries' own work). */
  replicas: number;
  json?: string;
}

/** One primary's share of a run. */
interface PrimaryFigure {
  port: number;
  jobs: number;
  cpuSeconds: number;
  /** Redis CPU per job it served, in microseconds (null: it served none). */
  cpuPerJobUs: number | null;
}

interface RunFigure {
  namespaces: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  clientCpuPerJobUs: number;
  /** Every primary's Redis CPU (busy or not) per job, in microseconds. */
  allPrimariesCpuPerJobUs: number;
  primaries: PrimaryFigure[];
}

async function cpuOf(port: number): Promise<number> {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('cpu');
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  } finally {
    redis.disconnect();
  }
}

/** Put `count` jobs (50 in flight), then work them off with two loops of 25. */
async function drive(client: qless.Client, count: number): Promise<void> {
  const queue = client.queue(QUEUE);
  await inFlight(count, 50, (i) => queue.put(KLASS, payload(i)));
  // A loop stops when the queue is empty. In one namespace the three
  // drivers share the queue, and the last one to finish putting drains
  // what is left; oneRun checks that nothing is.
  const lane = async (): Promise<void> => {
    let jobs = await queue.pop(25);
    while (jobs.length > 0) {
      const next = await queue.completeAndPop(jobs, 25);
      for (const outcome of next.completed) if (!outcome.ok) throw outcome.error;
      jobs = next.jobs;
    }
  };
  await Promise.all([lane(), lane()]);
}

async function oneRun(cluster: RedisCluster, names: readonly string[], layout: 1 | 3, n: number): Promise<RunFigure> {
  const primaries = (await cluster.describe()).filter((node) => node.role === 'master').map((node) => node.port);
  for (const port of primaries) {
    const redis = new Redis({ host: '127.0.0.1', port });
    await redis.flushall();
    redis.disconnect();
  }
  const used = layout === 1 ? [names[0]!, names[0]!, names[0]!] : [...names];
  const clients = used.map((namespace, i) => qless.client({ cluster: cluster.addresses, namespace, workerName: `bench-${i}` }));
  // Load the core and connect to every node outside the window.
  await Promise.all(clients.map((client) => client.config.get('heartbeat')));
  const perDriver = Math.floor(n / DRIVERS);
  const before = await Promise.all(primaries.map(cpuOf));
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(clients.map((client) => drive(client, perDriver)));
  const seconds = (performance.now() - started) / 1000;
  const clientUsage = process.cpuUsage(clientBefore);
  const after = await Promise.all(primaries.map(cpuOf));
  for (const client of new Map(used.map((namespace, i) => [namespace, clients[i]!])).values()) {
    const counts = await client.queue(QUEUE).counts();
    if (counts.waiting + counts.running > 0) throw new Error(`namespace ${client.namespace} was left with work: ${JSON.stringify(counts)}`);
  }
  await Promise.all(clients.map((client) => client.close()));

  const jobs = perDriver * DRIVERS;
  // Which primary served which namespace's jobs.
  const servedBy = new Map<number, number>();
  for (const namespace of used) {
    const port = await cluster.primaryOf(await cluster.slotOf(new KeySpace(namespace).prefix));
    servedBy.set(port, (servedBy.get(port) ?? 0) + perDriver);
  }
  return {
    namespaces: layout,
    jobs,
    seconds,
    jobsPerSecond: jobs / seconds,
    clientCpuPerJobUs: ((clientUsage.user + clientUsage.system) / jobs),
    allPrimariesCpuPerJobUs: (after.reduce((sum, cpu, i) => sum + cpu - before[i]!, 0) * 1e6) / jobs,
    primaries: primaries.map((port, i) => {
      const served = servedBy.get(port) ?? 0;
      const cpuSeconds = after[i]! - before[i]!;
      return { port, jobs: served, cpuSeconds, cpuPerJobUs: served > 0 ? (cpuSeconds * 1e6) / served : null };
    }),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Run the figure and print it; returns every run's figures. */
export async function runClusterBench(options: ClusterBenchOptions): Promise<RunFigure[]> {
  const cluster = await RedisCluster.start({ primaries: 3, replicas: options.replicas, nodeTimeoutMs: 5000 });
  const runs: RunFigure[] = [];
  try {
    const names = await namespacesOnDistinctPrimaries(cluster, 3, 'bench');
    process.stderr.write(`cluster of 3 primaries (${options.replicas} replica(s) each) up; namespaces ${names.join(', ')} on three primaries\n`);
    // Warm-up, unmeasured: both layouts once on a few jobs.
    await oneRun(cluster, names, 1, 300);
    await oneRun(cluster, names, 3, 300);
    for (let r = 0; r < options.runs; r++) {
      // 1,3 then 3,1: the order alternates from run to run.
      const order: Array<1 | 3> = r % 2 === 0 ? [1, 3] : [3, 1];
      for (const layout of order) {
        const figure = await oneRun(cluster, names, layout, options.n);
        runs.push(figure);
        const busy = figure.primaries.filter((p) => p.jobs > 0).map((p) => `${p.port}: ${p.cpuPerJobUs!.toFixed(0)} µs/job`);
        process.stderr.write(
          `run ${r + 1}, ${layout} namespace(s): ${figure.jobsPerSecond.toFixed(0)} jobs/s (${busy.join(', ')}; all primaries ${figure.allPrimariesCpuPerJobUs.toFixed(0)} µs/job)\n`,
        );
      }
    }
  } finally {
    await cluster.stop();
  }
  const lines = [`Redis Cluster, 3 primaries, ${options.n} jobs per run (put + pop + complete), ${options.runs} runs, ${cpus().length} CPUs:`];
  for (const layout of [1, 3] as const) {
    const mine = runs.filter((run) => run.namespaces === layout);
    const perJob = mine.flatMap((run) => run.primaries.filter((p) => p.cpuPerJobUs !== null).map((p) => p.cpuPerJobUs!));
    const busiest = mine.map((run) => Math.max(...run.primaries.map((p) => p.cpuSeconds)) / run.seconds);
    lines.push(
      `  ${layout} namespace${layout === 1 ? ' ' : 's'}: ${median(mine.map((run) => run.jobsPerSecond)).toFixed(0)} jobs/s ` +
        `(min ${Math.min(...mine.map((run) => run.jobsPerSecond)).toFixed(0)}, max ${Math.max(...mine.map((run) => run.jobsPerSecond)).toFixed(0)}); ` +
        `Redis CPU per job on each busy primary ${median(perJob).toFixed(0)} µs (min ${Math.min(...perJob).toFixed(0)}, max ${Math.max(...perJob).toFixed(0)}); ` +
        `all primaries together ${median(mine.map((run) => run.allPrimariesCpuPerJobUs)).toFixed(0)} µs/job; ` +
        `busiest primary ${(median(busiest) * 100).toFixed(0)}% of a core; client CPU ${median(mine.map((run) => run.clientCpuPerJobUs)).toFixed(0)} µs/job`,
    );
  }
  const one = median(runs.filter((run) => run.namespaces === 1).map((run) => run.jobsPerSecond));
  const three = median(runs.filter((run) => run.namespaces === 3).map((run) => run.jobsPerSecond));
  // Each round ran both layouts back to back: their ratio is less exposed to a loaded machine's drift.
  const ratios = Array.from({ length: options.runs }, (_, r) => {
    const round = runs.slice(r * 2, r * 2 + 2);
    const of = (layout: 1 | 3): number => round.find((run) => run.namespaces === layout)!.jobsPerSecond;
    return of(3) / of(1);
  });
  lines.push(
    `  3 namespaces / 1 namespace: ${(three / one).toFixed(2)}x of the medians; per round ${median(ratios).toFixed(2)}x ` +
      `(min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}: ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
  );
  console.log(lines.join('\n'));
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ options, runs }, null, 2)}\n`);
  return runs;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('must be a positive integer');
  return value;
}

function wholeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError('must be a whole number');
  return value;
}

/** The command line of bench/cluster.ts (and of `npm run bench -- --cluster`). */
export function clusterBenchOptions(argv: readonly string[]): ClusterBenchOptions {
  const program = new Command()
    .name('bench/cluster.ts')
    .description('jobs/s of qless-ts on a private 3-primary Redis Cluster: 1 namespace vs 3, and Redis CPU per job on each primary')
    .option('--cluster', 'accepted, for `npm run bench -- --cluster`')
    .option('--n <jobs>', 'jobs per run', positiveInteger, 6000)
    .option('--runs <count>', 'runs of each layout', positiveInteger, 3)
    .option('--replicas <count>', 'replicas per primary', wholeNumber, 0)
    .option('--json <file>', 'also write every run as JSON to this file')
    .showHelpAfterError();
  program.parse([...argv], { from: 'user' });
  const { n, runs, replicas, json } = program.opts<ClusterBenchOptions>();
  return { n, runs, replicas, ...(json === undefined ? {} : { json }) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runClusterBench(clusterBenchOptions(process.argv.slice(2))).catch((error: unknown) => {
    process.stderr.write(`\nbench/cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
