/**
 * `npm run bench`: qless-ts against BullMQ on one private Redis, side by
 * side in one run (see bench/RESULTS.md for how to read the table).
 *
 *   npm run bench -- [--n 20000] [--runs 3] [--only W1,W3,L,M] [--json out.json]
 *   npm run bench -- --cluster [--n 6000] [--runs 3]   (the Redis Cluster figure, bench/cluster.ts)
 *
 * Both systems are warmed up the same way first (each of W1–W4 that is run,
 * on a few hundred jobs, one system right after the other). Then, run by
 * run and workload by workload, the two systems are measured one right
 * after the other (ABAB…, alternating which goes first), each on a flushed
 * database (M: on a fresh server each), with a full garbage collection
 * before every window. Each pair gives one ratio qless-ts / BullMQ per
 * figure, printed as the run goes; the table shows each system's median
 * and min–max and the median and min–max of the per-run ratios. Redis CPU
 * and commands, client CPU and daemon CPU are counted inside each window
 * only (lib/window.ts).
 */
import { writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { clusterBenchOptions, runClusterBench } from './cluster.js';
import { benchContext } from './lib/context.js';
import { canReadProcessCpu } from './lib/process-cpu.js';
import { requireRedisServer } from './lib/redis-stats.js';
import { compactRows, figuresOf, lifecycleValues, renderTable, rowOf, runRatios, workloadRows, type Figures, type Row, type RunFigures } from './lib/report.js';
import { WORKLOAD_TITLES, WORKLOADS, type BenchContext, type Measurement, type System, type WorkloadId } from './lib/types.js';
import { BullMQSystem } from './systems/bullmq.js';
import { QlessSystem } from './systems/qless.js';

interface Options {
  n: number;
  runs: number;
  daemonJobs: number;
  latencySamples: number;
  memoryJobs: number;
  only: WorkloadId[];
  json?: string;
  warmup: boolean;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('must be a positive integer');
  return value;
}

function workloadList(text: string): WorkloadId[] {
  const ids = text.split(',').map((id) => id.trim().toUpperCase());
  for (const id of ids) {
    if (!(WORKLOADS as readonly string[]).includes(id)) throw new InvalidArgumentError(`unknown workload ${id} (use ${WORKLOADS.join(', ')})`);
  }
  return ids as WorkloadId[];
}

function parseOptions(): Options {
  const program = new Command()
    .name('npm run bench --')
    .description('Benchmark qless-ts against BullMQ on a private Redis: workloads W1–W5, latency L and memory M')
    .option('--n <jobs>', 'jobs per run of W1–W4', positiveInteger, 20_000)
    .option('--runs <count>', 'runs of every workload', positiveInteger, 3)
    .option('--daemon-jobs <jobs>', 'jobs the W5 worker daemons complete', positiveInteger, 5_000)
    .option('--latency-samples <count>', 'measured put → start samples of L', positiveInteger, 200)
    .option('--memory-jobs <jobs>', 'jobs put (and then completed) for the memory figures of M', positiveInteger, 50_000)
    .option('--only <workloads>', `comma-separated subset of ${WORKLOADS.join(',')}`, workloadList, [...WORKLOADS])
    .option('--json <file>', 'also write the figures as JSON to this file')
    .option('--no-warmup', 'skip the unmeasured warm-up of both systems')
    .showHelpAfterError();
  program.parse();
  return program.opts<Options>();
}

/** One line on stderr, rewritten in place on a terminal. */
class Progress {
  readonly #tty = Boolean(process.stderr.isTTY);
  #label = '';
  #last = 0;

  start(label: string): void {
    this.#label = label;
    this.#last = 0;
    if (this.#tty) this.#write(`${label} …`);
    else process.stderr.write(`${label}\n`);
  }

  update(done: number, total: number): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (now - this.#last < 100 && done < total) return;
    this.#last = now;
    this.#write(`${this.#label} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`);
  }

  clear(): void {
    if (this.#tty) process.stderr.write('\r\x1b[2K');
  }

  #write(text: string): void {
    const width = process.stderr.columns ?? 100;
    process.stderr.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
  }
}

interface MachineInfo {
  cpu: string;
  vcpus: number;
  redis: string;
  node: string;
  os: string;
}

async function machineInfo(redis: Redis): Promise<MachineInfo> {
  const info = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    vcpus: cpus().length,
    redis: version,
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

/** The figures of one workload on one system, by run (index run − 1). */
type FigureTable = Map<string, RunFigures>;

function record(table: FigureTable, key: string, run: number, figures: Figures | null): void {
  const list = table.get(key) ?? [];
  list[run - 1] = figures;
  table.set(key, list);
}

/** Each system's runs of a workload, with a `null` for every run that has no figures. */
function runsOf(table: FigureTable, key: string, runs: number): RunFigures {
  const list = table.get(key) ?? [];
  return Array.from({ length: runs }, (_, i) => list[i] ?? null);
}

async function main(): Promise<void> {
  const options = parseOptions();
  const serverVersion = requireRedisServer();
  const progress = new Progress();
  const server = await RedisServer.start();
  const stats = new Redis(server.url);
  const systems: System[] = [new QlessSystem(), new BullMQSystem()];
  // M once more with qless-ts jobs stored in the compact layout (job-layout
  // = compact), after the pair: extra rows, compared with BullMQ's figures.
  const compact = new QlessSystem('compact');
  const figures: FigureTable = new Map();
  const retention = new Map<string, string>();
  const errors: string[] = [];
  const started = performance.now();
  const sizes = { daemonJobs: options.daemonJobs, latencySamples: options.latencySamples, memoryJobs: options.memoryJobs };
  const report = (done: number, total: number): void => progress.update(done, total);
  const context = (n: number): BenchContext => benchContext(server, stats, { ...sizes, n }, report);

  /** One measurement; M gets a fresh server of its own, every other workload the shared one, flushed. */
  const measure = async (system: System, id: WorkloadId, n: number): Promise<Measurement> => {
    if (id !== 'M') {
      await stats.flushall();
      return system.run(id, context(n));
    }
    const fresh = await RedisServer.start();
    const redis = new Redis(fresh.url);
    try {
      return await system.run(id, benchContext(fresh, redis, { ...sizes, n }, report));
    } finally {
      redis.disconnect();
      await fresh.dispose();
    }
  };

  try {
    const machine = await machineInfo(stats);
    process.stderr.write(
      `qless-ts vs BullMQ · ${machine.cpu}, ${machine.vcpus} vCPUs · Redis ${machine.redis} (private, port ${server.port}) · Node ${machine.node}\n` +
        `n = ${options.n.toLocaleString('en-US')}, W5 ${options.daemonJobs.toLocaleString('en-US')} jobs, L ${options.latencySamples} samples, ` +
        `M ${options.memoryJobs.toLocaleString('en-US')} jobs, ${options.runs} runs\n`,
    );
    if (!canReadProcessCpu()) process.stderr.write('note: /proc is not readable here, so the W5 daemon CPU figures are missing\n');
    const skipped = new Map<string, string>();
    for (const system of systems) {
      const missing = system.daemonsMissing;
      if (missing !== undefined) {
        for (const id of ['W5', 'L'] as const) skipped.set(`${id}/${system.name}`, `${system.name}: worker daemon not available (${missing})`);
      }
    }

    if (options.warmup) {
      // Scripts loaded, connections made, JIT warm, for both systems alike
      // and one right after the other: nothing here is measured.
      for (const id of (['W1', 'W2', 'W3', 'W4'] as const).filter((id) => options.only.includes(id))) {
        for (const system of systems) {
          progress.start(`warm-up · ${system.name} · ${id}`);
          await measure(system, id, Math.min(options.n, id === 'W1' || id === 'W3' ? 200 : 1000));
        }
      }
    }

    for (let run = 1; run <= options.runs; run++) {
      for (const id of options.only) {
        const order = run % 2 === 1 ? systems : [...systems].reverse();
        const pair = new Map<string, Figures>();
        // One measurement of `system` into the figures (a failure is recorded, reported and passed over).
        const measureInto = async (system: System, key: string): Promise<void> => {
          try {
            const measurement = await measure(system, id, options.n);
            const values = figuresOf(measurement);
            record(figures, key, run, values);
            pair.set(system.name, values);
            if (measurement.kind === 'memory' && system !== compact) retention.set(system.name, measurement.retention);
          } catch (error) {
            record(figures, key, run, null);
            progress.clear();
            const message = `${key} run ${run}: ${error instanceof Error ? error.message : String(error)}`;
            errors.push(message);
            process.stderr.write(`error: ${message}\n`);
          }
        };
        for (const system of order) {
          const key = `${id}/${system.name}`;
          if (skipped.has(key)) continue;
          progress.start(`[run ${run}/${options.runs}] ${WORKLOAD_TITLES[id]} · ${system.name}`);
          await measureInto(system, key);
        }
        if (id === 'M') {
          progress.start(`[run ${run}/${options.runs}] ${WORKLOAD_TITLES[id]} · ${compact.name}`);
          await measureInto(compact, `M/${compact.name}`);
        }
        const q = pair.get('qless-ts');
        const b = pair.get('BullMQ');
        if (q && b) {
          progress.clear();
          process.stderr.write(`run ${run}/${options.runs} · ${WORKLOAD_TITLES[id]} · qless-ts / BullMQ: ${runRatios(id, q, b)}\n`);
          const c = pair.get(compact.name);
          if (c) process.stderr.write(`run ${run}/${options.runs} · ${WORKLOAD_TITLES[id]} · ${compact.name} / BullMQ: ${runRatios(id, c, b)}\n`);
        }
      }
    }
    progress.clear();

    const rows: Row[] = [];
    for (const id of options.only) {
      const q = runsOf(figures, `${id}/qless-ts`, options.runs);
      const b = runsOf(figures, `${id}/BullMQ`, options.runs);
      rows.push(...workloadRows(id, q, b, skipped.get(`${id}/qless-ts`)));
      if (id === 'M') rows.push(...compactRows(runsOf(figures, `M/${compact.name}`, options.runs), b));
    }
    // Per job over a whole lifecycle (put + pop + complete), per run.
    const lifecycle = (put: WorkloadId, work: WorkloadId, title: string): void => {
      if (!options.only.includes(put) || !options.only.includes(work)) return;
      const values = (system: string, key: string): number[] =>
        lifecycleValues(runsOf(figures, `${put}/${system}`, options.runs), runsOf(figures, `${work}/${system}`, options.runs), key);
      for (const [key, label] of [['redisCpuPerJob', 'Redis CPU µs/job'], ['clientCpuPerJob', 'client CPU µs/job']] as const) {
        rows.push(rowOf(title, { label, digits: 1, better: 'lower' }, values('qless-ts', key), values('BullMQ', key)));
      }
    };
    lifecycle('W2', 'W4', 'Lifecycle, batched (W2 put + W4 pop+complete)');
    lifecycle('W1', 'W3', 'Lifecycle, one at a time (W1 put + W3 pop+complete)');

    const minutes = (performance.now() - started) / 60_000;
    const table = renderTable(rows);
    console.log(`\nqless-ts vs BullMQ: ${machine.cpu}, ${machine.vcpus} vCPUs, Redis ${machine.redis}, Node ${machine.node}`);
    console.log(
      `n = ${options.n}, W5 = ${options.daemonJobs} jobs, L = ${options.latencySamples} samples, M = ${options.memoryJobs} jobs, ` +
        `${options.runs} runs, ${minutes.toFixed(1)} min\n`,
    );
    console.log(table);
    if (retention.size > 0) {
      console.log('\nRetention of completed jobs in M:');
      for (const sentence of retention.values()) console.log(`- ${sentence}.`);
    }
    for (const note of new Set(skipped.values())) console.log(`\nnot run: ${note}`);
    if (errors.length > 0) console.log(`\nerrors:\n${errors.map((e) => `- ${e}`).join('\n')}`);

    if (options.json) {
      const json = {
        machine: { ...machine, redisServer: serverVersion },
        options: {
          n: options.n,
          runs: options.runs,
          daemonJobs: options.daemonJobs,
          latencySamples: options.latencySamples,
          memoryJobs: options.memoryJobs,
          workloads: options.only,
          warmup: options.warmup,
        },
        minutes,
        runs: Object.fromEntries([...figures.keys()].map((key) => [key, runsOf(figures, key, options.runs)])),
        rows,
        retention: Object.fromEntries(retention),
        skipped: Object.fromEntries(skipped),
        errors,
      };
      writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
      console.log(`\nwrote ${options.json}`);
    }
    if (errors.length > 0) process.exitCode = 1;
  } finally {
    stats.disconnect();
    await server.dispose();
  }
}

// `npm run bench -- --cluster [--n …] [--runs …]`: the Redis Cluster figure
// instead (bench/cluster.ts, which reads the rest of the command line).
const clusterFigure = process.argv.includes('--cluster');
(clusterFigure ? runClusterBench(clusterBenchOptions(process.argv.slice(2))).then(() => undefined) : main()).catch((error: unknown) => {
  process.stderr.write(`\nbench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
