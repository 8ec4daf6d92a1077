/**
 * Where the Node process spends its time per job: each workload of each
 * system runs in a child process under `node --cpu-prof`, on a private
 * Redis, after a warm-up pass like the benchmark's. The child records the
 * measurement window's edges on the profiler's clock, and only samples
 * inside the window are counted (lib/cpu-profile.ts).
 *
 *   node --import tsx bench/client-profile.ts [--only W2,W3] [--systems qless-ts,BullMQ]
 *        [--n 20000] [--interval 200] [--out DIR]
 *
 * Prints, per workload and system, the busy share, a breakdown by part of
 * the stack and the top frames by self and total time, all per job. The
 * `.cpuprofile` files stay in --out (default a temporary directory) for
 * Chrome DevTools.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { findSourceMap, SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { benchContext } from './lib/context.js';
import { renderProfile, summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';
import { requireRedisServer } from './lib/redis-stats.js';
import { figuresOf } from './lib/report.js';
import { WORKLOAD_TITLES, type System, type WorkloadId } from './lib/types.js';
import { BullMQSystem } from './systems/bullmq.js';
import { QlessSystem } from './systems/qless.js';

const PROFILED = ['W1', 'W2', 'W3', 'W4'] as const;
type Profiled = (typeof PROFILED)[number];

interface Options {
  only: string;
  systems: string;
  n?: string;
  interval: string;
  out?: string;
  child?: boolean;
  system?: string;
  workload?: string;
  marks?: string;
}

/** What the child reports besides its profile. */
interface Marks {
  /** Window edges in µs of the monotonic clock (the clock of the profile's timestamps). */
  from: number;
  to: number;
  jobs: number;
  figures: Record<string, number>;
  /** Source maps of the project's own modules as loaded (tsx compiles them), by URL. */
  sourceMaps: Record<string, SourceMapPayload>;
}

/** Jobs per workload by default: enough for a few thousand samples of each. */
const DEFAULT_N: Record<Profiled, number> = { W1: 10_000, W2: 50_000, W3: 10_000, W4: 50_000 };

function systemNamed(name: string): System {
  if (name === 'qless-ts') return new QlessSystem();
  if (name === 'BullMQ') return new BullMQSystem();
  throw new Error(`unknown system ${name} (use qless-ts or BullMQ)`);
}

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The source maps Node holds for the project's own .ts modules (it keeps them under --enable-source-maps). */
function ownSourceMaps(): Record<string, SourceMapPayload> {
  const maps: Record<string, SourceMapPayload> = {};
  for (const dir of ['src', 'bench']) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.ts')) continue;
      const url = pathToFileURL(join(ROOT, dir, entry)).href;
      const map = findSourceMap(url);
      if (map) maps[url] = map.payload;
    }
  }
  return maps;
}

function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** In the profiled child: warm up, then run the workload once with its window marked. */
async function child(options: Options): Promise<void> {
  const system = systemNamed(options.system!);
  const id = options.workload as Profiled;
  const n = Number(options.n);
  const server = await RedisServer.start();
  const stats = new Redis(server.url);
  try {
    let from = 0;
    let to = 0;
    const hooks = { opened: () => (from = monotonicMicros()), closing: () => (to = monotonicMicros()) };
    const sizes = { daemonJobs: 0, latencySamples: 0, memoryJobs: 0 };
    await stats.flushall();
    await system.run(id, benchContext(server, stats, { ...sizes, n: Math.min(n, id === 'W1' || id === 'W3' ? 200 : 1000) }));
    await stats.flushall();
    const measurement = await system.run(id, benchContext(server, stats, { ...sizes, n }, undefined, hooks));
    const marks: Marks = { from, to, jobs: n, figures: figuresOf(measurement), sourceMaps: ownSourceMaps() };
    writeFileSync(options.marks!, JSON.stringify(marks));
  } finally {
    stats.disconnect();
    await server.dispose();
  }
}

async function profileOne(system: string, id: Profiled, n: number, interval: number, out: string): Promise<string> {
  const dir = join(out, `${system}-${id}`);
  mkdirSync(dir, { recursive: true });
  const marksFile = join(dir, 'window.json');
  const script = fileURLToPath(import.meta.url);
  const args = [
    '--enable-source-maps',
    '--cpu-prof',
    '--cpu-prof-dir',
    dir,
    '--cpu-prof-interval',
    String(interval),
    '--import',
    'tsx',
    script,
    '--child',
    '--system',
    system,
    '--workload',
    id,
    '--n',
    String(n),
    '--marks',
    marksFile,
  ];
  await new Promise<void>((resolveRun, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`${system} ${id}: profiled child exited with code ${code}`))));
  });
  const profileFile = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!profileFile) throw new Error(`${system} ${id}: node wrote no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, profileFile), 'utf8')) as CpuProfile;
  const marks = JSON.parse(readFileSync(marksFile, 'utf8')) as Marks;
  const maps = new Map(Object.entries(marks.sourceMaps).map(([url, payload]) => [url, new SourceMap(payload)]));
  const summary = summarizeProfile(profile, marks.from, marks.to, marks.jobs, (url, line, column) => {
    const entry = maps.get(url)?.findEntry(line, column);
    return entry && 'originalLine' in entry ? entry.originalLine + 1 : undefined;
  });
  const clientCpu = marks.figures['clientCpuPerJob'] ?? NaN;
  return (
    renderProfile(`${WORKLOAD_TITLES[id]} · ${system}`, summary) +
    `\n\nSame window, measured apart: client CPU ${clientCpu.toFixed(1)} µs/job (process.cpuUsage, under the profiler), ` +
    `Redis CPU ${(marks.figures['redisCpuPerJob'] ?? NaN).toFixed(1)} µs/job, ${Math.round(marks.figures['jobsPerSecond'] ?? NaN).toLocaleString('en-US')} jobs/s. ` +
    `Profile: ${join(dir, profileFile)}\n`
  );
}

async function main(): Promise<void> {
  const program = new Command()
    .name('client-profile')
    .description('CPU profile of the Node process per job, for qless-ts and BullMQ, over the measurement window only')
    .option('--only <workloads>', `comma-separated subset of ${PROFILED.join(',')}`, 'W2,W3')
    .option('--systems <names>', 'qless-ts, BullMQ or both', 'qless-ts,BullMQ')
    .option('--n <jobs>', `jobs per workload (default ${Object.entries(DEFAULT_N).map(([id, n]) => `${id} ${n}`).join(', ')})`)
    .option('--interval <µs>', 'sampling interval of the profiler', '200')
    .option('--out <dir>', 'where the .cpuprofile files go (default: a new temporary directory)')
    .option('--child', 'internal: run one profiled workload')
    .option('--system <name>', 'internal: the system of --child')
    .option('--workload <id>', 'internal: the workload of --child')
    .option('--marks <file>', 'internal: where --child writes its window');
  program.parse();
  const options = program.opts<Options>();
  if (options.child) return child(options);

  requireRedisServer();
  const ids = options.only.split(',').map((id) => id.trim().toUpperCase());
  for (const id of ids) {
    if (!(PROFILED as readonly string[]).includes(id)) throw new Error(`unknown workload ${id} (use ${PROFILED.join(', ')})`);
  }
  const systems = options.systems.split(',').map((name) => systemNamed(name.trim()).name);
  const out = options.out ?? mkdtempSync(join(tmpdir(), 'qless-ts-client-profile-'));
  for (const id of ids as Profiled[]) {
    for (const system of systems) {
      const n = options.n ? Number(options.n) : DEFAULT_N[id];
      process.stderr.write(`profiling ${system} ${id} (${n.toLocaleString('en-US')} jobs) …\n`);
      console.log(await profileOne(system, id, n, Number(options.interval), out));
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`client-profile: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
