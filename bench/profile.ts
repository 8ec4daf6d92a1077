/**
 * Redis-side cost measured in instructions, which (unlike CPU time on a
 * shared 2-vCPU machine) does not depend on what else runs: redis-server is
 * started under valgrind's callgrind, and for each phase the counters are
 * zeroed, the phase runs, and the instructions Redis executed are read back.
 *
 *   node --import tsx bench/profile.ts [--n 400] [--script FILE] [--only core,systems] [--layout compact]
 *
 * `core` phases call the core directly (FCALL and EVALSHA) and report
 * instructions per call; `systems` phases run the benchmark's W1–W4 loops
 * of qless-ts and BullMQ on a small scale and report instructions per job,
 * then BullMQ's own commands one by one (moveToActive, extendLock,
 * moveToFinished), and sum both systems' lifecycles (put + pop + complete)
 * per job, one at a time and batched (with `core` too, also from the core's
 * FCALL pop and complete).
 * `--script FILE` or `--git REVISION` measure another version of the core
 * (in EVALSHA form; `--git` builds it from lua/*.lua at that revision) for
 * before/after comparisons.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import * as qless from '../src/index.js';
import { coreLibraryFrom, coreScript } from '../src/script.js';
import { DEFAULT_KEYS } from '../src/keys.js';
import { inFlight, payload, sleep } from './lib/types.js';

interface Options {
  n: string;
  keep?: string;
  script?: string;
  git?: string;
  only: string;
  match?: string;
  layout: string;
}

/**
 * Empty the server, then (with `--layout compact`) set the core's job-layout
 * option, so that every job the qless phases make is stored that way.
 * BullMQ's phases empty it too; the option is a key of qless's alone.
 */
let layout = 'spec';
async function reset(redis: Redis): Promise<void> {
  await redis.flushall();
  if (layout !== 'spec') await redis.hset(`${DEFAULT_KEYS.prefix}config`, 'job-layout', layout);
}

/**
 * The core script as the build made it at a git revision: that revision's
 * lua/ directory (build.mjs included, since how the script is put together
 * changes with it: generated registry, module order) is written to a
 * temporary directory and built there. Nothing in the checkout changes.
 */
function scriptAt(revision: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qless-core-at-'));
  try {
    const names = execFileSync('git', ['ls-tree', '--name-only', `${revision}:lua`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    mkdirSync(join(dir, 'lua'));
    for (const name of names) {
      if (!name.endsWith('.lua') && !name.endsWith('.mjs')) continue;
      writeFileSync(join(dir, 'lua', name), execFileSync('git', ['show', `${revision}:lua/${name}`]));
    }
    execFileSync(process.execPath, [join(dir, 'lua', 'build.mjs')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'dist', 'qless.lua'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The instructions of Redis's timer (serverCron, inclusive) in a dump: once
 * a second even at --hz 1, so a dump of a single call holds it or not by
 * chance, which would make a per-call phase's figure depend on how long the
 * dumps take. (callgrind's format: the callee's id, named at first use, then
 * `calls=` and the line with the inclusive cost.)
 */
function timerCost(text: string): number {
  const ids = new Set<string>();
  for (const m of text.matchAll(/^c?fn=\((\d+)\) serverCron$/gm)) ids.add(m[1]!);
  let total = 0;
  for (const m of text.matchAll(/^cfn=\((\d+)\).*\ncalls=.*\n(.*)$/gm)) {
    if (ids.has(m[1]!)) total += Number(m[2]!.trim().split(/\s+/).at(-1));
  }
  return total;
}

class CallgrindRedis {
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  #dumps = 0;

  private constructor(port: number, dir: string, pid: number) {
    this.port = port;
    this.dir = dir;
    this.pid = pid;
  }

  static async start(): Promise<CallgrindRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'qless-ts-callgrind-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    // --hz 1: Redis's timer (expiry sampling, client and memory checks) runs
    // once a second instead of ten times; under valgrind a phase lasts
    // seconds, so the default timer alone added a few thousand instructions
    // per job, more or less with the machine's load.
    const child = spawn(
      'valgrind',
      ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.out')}`, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--hz', '1', '--dir', dir],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 600; i++) {
      const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return new CallgrindRedis(port, dir, child.pid!);
      } catch {
        probe.disconnect();
        await sleep(100);
      }
    }
    throw new Error('redis-server under callgrind did not start');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  zero(): void {
    execFileSync('callgrind_control', ['--zero', String(this.pid)], { stdio: 'ignore' });
  }

  /**
   * Dump the counters and return the instructions executed since the last
   * zero; with `keepAs`, the dump is kept under that file name (for
   * callgrind_annotate).
   */
  dump(keepAs?: string, withoutTimer = false): number {
    this.#dumps++;
    execFileSync('callgrind_control', [`--dump=phase${this.#dumps}`, String(this.pid)], { stdio: 'ignore' });
    const files = readdirSync(this.dir)
      .filter((name) => name.startsWith('cg.out.'))
      .map((name) => join(this.dir, name))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    const text = readFileSync(files[0]!, 'utf8');
    const match = /^(?:summary|totals):\s+(\d+)/m.exec(text);
    if (!match) throw new Error('no totals in the callgrind dump');
    if (keepAs !== undefined) copyFileSync(files[0]!, keepAs);
    for (const file of files) rmSync(file);
    return Number(match[1]) - (withoutTimer ? timerCost(text) : 0);
  }

  async stop(redis: Redis): Promise<void> {
    // SHUTDOWN has no reply: awaiting it would make ioredis resend it to the
    // stopped server until its retries run out. Wait for the process instead.
    // Refused reconnections while it stops are expected.
    redis.on('error', () => undefined);
    redis.shutdown('NOSAVE').catch(() => undefined);
    for (let i = 0; i < 100 && processAlive(this.pid); i++) await sleep(100);
    redis.disconnect();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A phase runs `run` as a whole between two counter readings; or, with
 * `each`, measures `each.call(i)` alone for i = 0 … units - 1, with
 * `each.before(i)` run unmeasured before each (what a call finds when it
 * comes alone: one job put into an empty queue, then its pop).
 */
type Phase = {
  name: string;
  units: number;
  unit: string;
  run: () => Promise<unknown>;
  setup?: () => Promise<unknown>;
  each?: { before: (i: number) => Promise<unknown>; call: (i: number) => Promise<unknown> };
};

/** Run the phases; print and return the instructions per unit of each (in thousands). */
async function measure(server: CallgrindRedis, redis: Redis, phases: Phase[], keep?: string, match?: RegExp, runSkipped = false): Promise<Map<string, number>> {
  const results = new Map<string, number>();
  console.log('| phase | Redis instructions per unit (thousands) |');
  console.log('|---|---:|');
  for (const phase of phases) {
    if (phase.setup) await phase.setup();
    // A phase left out still has its set-up run (later phases may rely on
    // what it made: clients, jobs), and with `runSkipped` its run too,
    // unmeasured (the core phases work on what the one before left).
    if (match !== undefined && !match.test(phase.name)) {
      if (runSkipped) await phase.run();
      continue;
    }
    const keepAs = keep === undefined ? undefined : join(keep, `${phase.name.replace(/[^\w.+-]+/g, '_')}.callgrind`);
    let total = 0;
    if (phase.each) {
      for (let i = 0; i < phase.units; i++) {
        await phase.each.before(i);
        await redis.ping();
        server.zero();
        await phase.each.call(i);
        // (Only the last call's dump is kept for callgrind_annotate.)
        total += server.dump(i === phase.units - 1 ? keepAs : undefined, true);
      }
    } else {
      await redis.ping();
      server.zero();
      await phase.run();
      await redis.ping();
      total = server.dump(keepAs);
    }
    const thousands = total / phase.units / 1000;
    results.set(phase.name, thousands);
    console.log(`| ${phase.name} | ${thousands.toFixed(1)} k per ${phase.unit} |`);
  }
  return results;
}

function corePhases(redis: Redis, source: string, mode: 'eval' | 'fcall', n: number): Phase[] {
  let call: (argv: string[]) => Promise<unknown>;
  let ready: () => Promise<unknown>;
  if (mode === 'eval') {
    let sha = '';
    ready = async () => (sha = String(await redis.script('LOAD', source)));
    call = (argv) => redis.evalsha(sha, 0, ...argv);
  } else {
    const library = coreLibraryFrom(source);
    ready = () => redis.function('LOAD', 'REPLACE', library.source);
    call = (argv) => redis.fcall(library.name, 0, ...argv);
  }
  let now = 1_700_000_000;
  const tick = (): string => String((now += 0.001));
  const jid = (i: number): string => `job-${i}`;
  const data = '{"i":1}';
  const each = (count: number, lanes: number, argv: (i: number) => string[]) => () => inFlight(count, lanes, (i) => call(argv(i)));
  const label = mode === 'eval' ? 'EVALSHA' : 'FCALL';
  return [
    { name: `${label} config.get heartbeat`, units: n, unit: 'call', setup: async () => { await reset(redis); await ready(); }, run: each(n, 20, () => ['config.get', tick(), 'heartbeat']) },
    { name: `${label} put`, units: 2 * n, unit: 'call', run: each(2 * n, 20, (i) => ['put', tick(), 'w', 'q', jid(i), 'bench.Noop', data, '0', 'priority', '0', 'tags', '[]', 'retries', '5', 'depends', '[]']) },
    { name: `${label} pop 1`, units: n, unit: 'call', run: each(n, 1, () => ['pop', tick(), 'q', 'w', '1']) },
    { name: `${label} complete (after pop 1)`, units: n, unit: 'call', run: each(n, 20, (i) => ['complete', tick(), jid(i), 'w', 'q', data]) },
    { name: `${label} pop 50, per job`, units: n, unit: 'job', run: each(n / 50, 1, () => ['pop', tick(), 'q', 'w', '50']) },
    { name: `${label} heartbeat`, units: n, unit: 'call', run: each(n, 20, (i) => ['heartbeat', tick(), jid(n + i), 'w', data]) },
    { name: `${label} complete (after pop 50)`, units: n, unit: 'call', run: each(n, 20, (i) => ['complete', tick(), jid(n + i), 'w', 'q', data]) },
    // What an idle worker's pop finds (bench L): one job, just put into an
    // empty queue. Each pop is measured alone (a quarter as many: every one
    // is a dump of the counters), by a worker of its own.
    {
      name: `${label} pop.raw 1 of 1 (L)`,
      units: n / 4,
      unit: 'call',
      run: async () => undefined,
      each: {
        // (The job popped before is completed first, as the worker would,
        // so that its lock and worker sets stay as small as the worker's.)
        before: async (i) => {
          if (i > 0) await call(['complete', tick(), `lone-${i - 1}`, 'idle', 'lone', data]);
          await call(['put', tick(), 'w', 'lone', `lone-${i}`, 'bench.Noop', data, '0']);
        },
        call: () => call(['pop.raw', tick(), 'lone', 'idle', '1']),
      },
    },
  ];
}

function systemPhases(url: string, redis: Redis, port: number, n: number): Phase[] {
  const connection = { host: '127.0.0.1', port };
  let client: qless.Client;
  let bull: Queue;
  // Both systems keep completed jobs in a sorted set; seeded past the 128
  // members below which Redis stores it as a listpack (whose inserts cost
  // more), so that a short phase costs what a long run does.
  const seed = async (key: string, score: number) => {
    const args: Array<string | number> = [];
    for (let i = 0; i < 200; i++) args.push(score, `seed-${i}`);
    await redis.zadd(key, ...args);
  };
  const qlessFill = async () => {
    await reset(redis);
    await seed(DEFAULT_KEYS.completed, Date.now() / 1000 - 1000);
    await inFlight(n, 100, (i) => client.queue('bench').put('bench.Noop', payload(i)));
  };
  const qlessDrain = (batch: number) => async () => {
    const queue = client.queue('bench');
    let jobs = await queue.pop(batch);
    while (jobs.length > 0) ({ jobs } = await queue.completeAndPop(jobs, batch));
  };
  const bullFill = async () => {
    await redis.flushall();
    await seed('bull:bench:completed', Date.now() - 1000);
    const jobs = Array.from({ length: n }, (_, i) => ({ name: 'noop', data: payload(i) }));
    await bull.addBulk(jobs);
  };
  let worker: Worker | undefined;
  let finished: Promise<void> = Promise.resolve();
  const bullWorker = (concurrency: number) => async () => {
    await bullFill();
    worker = new Worker('bench', async () => undefined, { connection, concurrency, autorun: false });
    await worker.waitUntilReady();
    let done = 0;
    finished = new Promise<void>((resolveAll) => worker!.on('completed', () => { if (++done === n) resolveAll(); }));
  };
  const bullDrain = async () => {
    void worker!.run();
    await finished;
    await worker!.close();
  };
  // BullMQ's commands one by one, as qless's core phases are: moveToActive
  // (Worker.getNextJob) for every job, then extendLock and moveToFinished
  // (Job.moveToCompleted without fetching the next job) for each of them.
  const token = 'bench-token';
  let active: Job[] = [];
  let lone: Job | undefined;
  const bullCommands = async () => {
    await bullFill();
    worker = new Worker('bench', null, { connection, autorun: false });
    await worker.waitUntilReady();
    active = [];
  };
  return [
    {
      name: 'qless-ts W1 put, one at a time',
      units: n,
      unit: 'job',
      setup: async () => {
        client = qless.client(url, { workerName: 'w' });
        await client.config.get('heartbeat');
        bull = new Queue('bench', { connection });
        await bull.waitUntilReady();
        await bull.add('warm', {});
        await reset(redis);
      },
      run: () => inFlight(n, 1, (i) => client.queue('bench').put('bench.Noop', payload(i))),
    },
    { name: 'qless-ts W2 put, 50 in flight', units: n, unit: 'job', setup: () => reset(redis), run: () => inFlight(n, 50, (i) => client.queue('bench').put('bench.Noop', payload(i))) },
    { name: 'qless-ts W3 pop + complete, one at a time', units: n, unit: 'job', setup: qlessFill, run: qlessDrain(1) },
    { name: 'qless-ts W4 drain, 50 at a time', units: n, unit: 'job', setup: qlessFill, run: qlessDrain(50) },
    { name: 'BullMQ W1 add, one at a time', units: n, unit: 'job', setup: () => redis.flushall(), run: () => inFlight(n, 1, (i) => bull.add('noop', payload(i))) },
    { name: 'BullMQ W2 add, 50 in flight', units: n, unit: 'job', setup: () => redis.flushall(), run: () => inFlight(n, 50, (i) => bull.add('noop', payload(i))) },
    { name: 'BullMQ W3 worker, concurrency 1', units: n, unit: 'job', setup: bullWorker(1), run: bullDrain },
    { name: 'BullMQ W4 worker, concurrency 50', units: n, unit: 'job', setup: bullWorker(50), run: bullDrain },
    {
      name: 'BullMQ moveToActive (Worker.getNextJob)',
      units: n,
      unit: 'call',
      setup: bullCommands,
      run: () => inFlight(n, 1, async () => active.push((await worker!.getNextJob(token, { block: false }))!)),
    },
    { name: 'BullMQ extendLock', units: n, unit: 'call', run: () => inFlight(n, 20, (i) => active[i]!.extendLock(token, 30_000)) },
    {
      name: 'BullMQ moveToFinished (Job.moveToCompleted, no fetch)',
      units: n,
      unit: 'call',
      run: () => inFlight(n, 20, (i) => active[i]!.moveToCompleted('done', token, false)),
    },
    {
      name: 'BullMQ moveToActive 1 of 1 (L)',
      units: n / 4,
      unit: 'call',
      setup: () => redis.flushall(),
      run: async () => undefined,
      each: {
        // (As for qless: the job taken before is completed first.)
        before: async (i) => {
          if (lone !== undefined) await lone.moveToCompleted('done', token, false);
          await bull.add('noop', payload(i));
        },
        call: async () => (lone = await worker!.getNextJob(token, { block: false })),
      },
    },
    { name: '(closing)', units: 1, unit: 'call', run: async () => { await worker?.close(); await bull.close(); await client.close(); } },
  ];
}

/** Instructions per job of a whole lifecycle, put + pop + complete, from the system phases. */
function printLifecycles(results: Map<string, number>): void {
  const sum = (...names: string[]): number => names.reduce((total, name) => total + (results.get(name) ?? NaN), 0);
  const lines: Array<[string, number, number]> = [
    ['one at a time: W1 put + W3 pop and complete / W1 add + W3 worker (moveToFinished fetching the next)',
      sum('qless-ts W1 put, one at a time', 'qless-ts W3 pop + complete, one at a time'),
      sum('BullMQ W1 add, one at a time', 'BullMQ W3 worker, concurrency 1')],
    ['one at a time, command by command: put + pop 1 + complete / add + moveToActive + moveToFinished',
      sum('qless-ts W1 put, one at a time', 'FCALL pop 1', 'FCALL complete (after pop 1)'),
      sum('BullMQ W1 add, one at a time', 'BullMQ moveToActive (Worker.getNextJob)', 'BullMQ moveToFinished (Job.moveToCompleted, no fetch)')],
    ['L, the pop of an idle worker: pop.raw of the one job of a queue / moveToActive of the one waiting job',
      sum('FCALL pop.raw 1 of 1 (L)'), sum('BullMQ moveToActive 1 of 1 (L)')],
    ['batched: W2 put + W4 drain',
      sum('qless-ts W2 put, 50 in flight', 'qless-ts W4 drain, 50 at a time'),
      sum('BullMQ W2 add, 50 in flight', 'BullMQ W4 worker, concurrency 50')],
  ];
  console.log('\n| lifecycle, per job | qless-ts (k instructions) | BullMQ (k instructions) | ratio |');
  console.log('|---|---:|---:|---:|');
  for (const [name, q, b] of lines) {
    if (Number.isFinite(q) && Number.isFinite(b)) console.log(`| ${name} | ${q.toFixed(0)} | ${b.toFixed(0)} | ${(q / b).toFixed(2)}× |`);
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('profile')
    .description('Redis instructions per core call and per job, under callgrind')
    .option('--n <count>', 'calls or jobs per phase (a multiple of 50)', '400')
    .option('--script <file>', 'core script in EVALSHA form (default: dist/qless.lua)')
    .option('--git <revision>', 'build the core from lua/*.lua at this git revision instead')
    .option('--only <parts>', 'core, systems, or both', 'core,systems')
    .option('--layout <layout>', 'job-layout the qless phases run with: spec (today\'s) or compact', 'spec')
    .option('--match <regex>', 'measure only the phases whose names match (the others still run their set-up)')
    .option('--keep <dir>', 'keep each phase\'s callgrind dump in this directory (read them with callgrind_annotate)');
  program.parse();
  const options = program.opts<Options>();
  layout = options.layout;
  if (layout !== 'spec' && layout !== 'compact') throw new Error(`--layout must be spec or compact, not ${layout}`);
  const n = Math.max(50, Math.round(Number(options.n) / 50) * 50);
  const source = options.git ? scriptAt(options.git) : options.script ? readFileSync(options.script, 'utf8') : coreScript().source;
  if (options.keep) mkdirSync(options.keep, { recursive: true });
  const server = await CallgrindRedis.start();
  const redis = new Redis(server.url);
  try {
    const parts = options.only.split(',');
    const match = options.match === undefined ? undefined : new RegExp(options.match);
    const results = new Map<string, number>();
    const keep = (more: Map<string, number>): void => more.forEach((value, name) => results.set(name, value));
    if (parts.includes('core')) {
      let library = true;
      try {
        coreLibraryFrom(source);
      } catch {
        library = false; // an older core without the function entry point: EVALSHA only
      }
      if (library) keep(await measure(server, redis, corePhases(redis, source, 'fcall', n), options.keep, match, true));
      keep(await measure(server, redis, corePhases(redis, source, 'eval', n), options.keep, match, true));
    }
    if (parts.includes('systems')) {
      keep(await measure(server, redis, systemPhases(server.url, redis, server.port, n), options.keep, match));
      printLifecycles(results);
    }
  } finally {
    await server.stop(redis);
  }
  process.exit(0);
}

await main();
