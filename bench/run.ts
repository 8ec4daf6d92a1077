/**
 * `npm run bench`: qless-ts against BullMQ on one private Redis, side by
 * side in one run (see bench/RESULTS.md for how to read the table).
 *
 *   npm run bench -- [--n 20000] [--runs 3] [--only W1,W3,L] [--json out.json]
 *
 * For every workload, each run measures both systems one after the other
 * (alternating which goes first) on a flushed database; the table shows the
 * median and min–max over runs and the ratio qless-ts / BullMQ of the
 * medians. Redis CPU and commands are counted inside each measurement
 * window only (see lib/redis-stats.ts).
 */
import { writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { requireRedisServer } from './lib/redis-stats.js';
import { figuresOf, renderTable, summarize, workloadRows, type Figures, type Row } from './lib/report.js';
import { WORKLOAD_TITLES, WORKLOADS, type BenchContext, type System, type WorkloadId } from './lib/types.js';
import { BullMQSystem } from './systems/bullmq.js';
import { QlessSystem } from './systems/qless.js';

interface Options {
  n: number;
  runs: number;
  daemonJobs: number;
  latencySamples: number;
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
    .description('Benchmark qless-ts against BullMQ on a private Redis (workloads W1–W5 and L of issue 6)')
    .option('--n <jobs>', 'jobs per run of W1–W4', positiveInteger, 20_000)
    .option('--runs <count>', 'runs of every workload', positiveInteger, 3)
    .option('--daemon-jobs <jobs>', 'jobs the W5 worker daemons complete', positiveInteger, 5_000)
    .option('--latency-samples <count>', 'measured put → start samples of L', positiveInteger, 200)
    .option('--only <workloads>', `comma-separated subset of ${WORKLOADS.join(',')}`, workloadList, [...WORKLOADS])
    .option('--json <file>', 'also write the figures as JSON to this file')
    .option('--no-warmup', 'skip the unmeasured warm-up pass')
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

async function main(): Promise<void> {
  const options = parseOptions();
  const serverVersion = requireRedisServer();
  const progress = new Progress();
  const server = await RedisServer.start();
  const stats = new Redis(server.url);
  const systems: System[] = [new QlessSystem(), new BullMQSystem()];
  const figures = new Map<string, Figures[]>();
  const errors: string[] = [];
  const started = performance.now();
  try {
    const machine = await machineInfo(stats);
    process.stderr.write(
      `qless-ts vs BullMQ · ${machine.cpu}, ${machine.vcpus} vCPUs · Redis ${machine.redis} (private, port ${server.port}) · Node ${machine.node}\n` +
        `n = ${options.n.toLocaleString('en-US')}, W5 ${options.daemonJobs.toLocaleString('en-US')} jobs, L ${options.latencySamples} samples, ${options.runs} runs\n`,
    );
    const context = (n: number): BenchContext => ({
      url: server.url,
      host: '127.0.0.1',
      port: server.port,
      stats,
      n,
      daemonJobs: options.daemonJobs,
      latencySamples: options.latencySamples,
      progress: (done, total) => progress.update(done, total),
    });
    const skipped = new Map<string, string>();
    for (const system of systems) {
      const missing = system.daemonsMissing;
      if (missing !== undefined) {
        for (const id of ['W5', 'L'] as const) skipped.set(`${id}/${system.name}`, `${system.name}: worker daemon not available (${missing})`);
      }
    }

    if (options.warmup) {
      // Scripts loaded, connections and JIT warm: nothing here is measured.
      for (const system of systems) {
        for (const id of ['W2', 'W4', 'W3'] as const) {
          progress.start(`warm-up · ${system.name} · ${id}`);
          await stats.flushall();
          await system.run(id, context(Math.min(options.n, id === 'W3' ? 200 : 1000)));
        }
      }
    }

    for (let run = 1; run <= options.runs; run++) {
      for (const id of options.only) {
        const order = run % 2 === 1 ? systems : [...systems].reverse();
        for (const system of order) {
          const key = `${id}/${system.name}`;
          if (skipped.has(key)) continue;
          progress.start(`[run ${run}/${options.runs}] ${WORKLOAD_TITLES[id]} · ${system.name}`);
          await stats.flushall();
          try {
            const measurement = await system.run(id, context(options.n));
            const list = figures.get(key) ?? [];
            list.push(figuresOf(measurement));
            figures.set(key, list);
          } catch (error) {
            progress.clear();
            const message = `${key} run ${run}: ${error instanceof Error ? error.message : String(error)}`;
            errors.push(message);
            process.stderr.write(`error: ${message}\n`);
          }
        }
      }
    }
    progress.clear();

    const rows: Row[] = [];
    for (const id of options.only) {
      const q = figures.get(`${id}/qless-ts`) ?? [];
      const b = figures.get(`${id}/BullMQ`) ?? [];
      rows.push(...workloadRows(id, q, b, skipped.get(`${id}/qless-ts`)));
    }
    // Redis CPU per job over a whole lifecycle (put + pop + complete), per run.
    const lifecycle = (put: WorkloadId, work: WorkloadId, title: string): void => {
      if (!options.only.includes(put) || !options.only.includes(work)) return;
      const sum = (system: string): number[] => {
        const a = figures.get(`${put}/${system}`) ?? [];
        const b = figures.get(`${work}/${system}`) ?? [];
        return a.slice(0, b.length).map((f, i) => (f['cpuPerJob'] ?? NaN) + (b[i]!['cpuPerJob'] ?? NaN));
      };
      const q = summarize(sum('qless-ts'));
      const b = summarize(sum('BullMQ'));
      rows.push({ workload: title, figure: 'Redis CPU µs/job', better: 'lower', qless: q, bullmq: b, ratio: q.median / b.median });
    };
    lifecycle('W2', 'W4', 'Lifecycle, batched (W2 put + W4 pop+complete)');
    lifecycle('W1', 'W3', 'Lifecycle, one at a time (W1 put + W3 pop+complete)');

    const minutes = (performance.now() - started) / 60_000;
    const table = renderTable(rows);
    console.log(`\nqless-ts vs BullMQ: ${machine.cpu}, ${machine.vcpus} vCPUs, Redis ${machine.redis}, Node ${machine.node}`);
    console.log(`n = ${options.n}, W5 = ${options.daemonJobs} jobs, L = ${options.latencySamples} samples, ${options.runs} runs, ${minutes.toFixed(1)} min\n`);
    console.log(table);
    for (const note of new Set(skipped.values())) console.log(`\nnot run: ${note}`);
    if (errors.length > 0) console.log(`\nerrors:\n${errors.map((e) => `- ${e}`).join('\n')}`);

    if (options.json) {
      const json = {
        machine: { ...machine, redisServer: serverVersion },
        options: { n: options.n, runs: options.runs, daemonJobs: options.daemonJobs, latencySamples: options.latencySamples, workloads: options.only },
        minutes,
        runs: Object.fromEntries(figures),
        rows,
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

main().catch((error: unknown) => {
  process.stderr.write(`\nbench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
