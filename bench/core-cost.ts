/**
 * Per-command Redis cost of the core, measured inside Redis: for each phase
 * (a few thousand calls of one command) the window's INFO commandstats gives
 * the script's µs per call (usec_per_call of evalsha/fcall, which includes
 * the Redis commands it runs) and the number of Redis commands each call
 * issues, and INFO cpu gives the server's CPU per call.
 *
 *   node --import tsx bench/core-cost.ts [--script FILE] [--mode eval|fcall|both] [--m 4000]
 *
 * `--script` names a core script in the EVALSHA form (default
 * dist/qless.lua); the FCALL form is built from it the way the client does.
 * Use it to compare two versions of the core on the same machine.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { coreLibraryFrom, coreScript } from '../src/script.js';
import { requireRedisServer, RedisWindow } from './lib/redis-stats.js';

interface Options {
  script?: string;
  mode: string;
  m: string;
  verbose?: boolean;
}

type Caller = (redis: Redis, argv: string[]) => Promise<unknown>;

interface PhaseResult {
  phase: string;
  /** Commands run by the calls: name, calls per call, µs per call of the script. */
  breakdown: Array<[string, number, number]>;
  calls: number;
  usecPerCall: number;
  cpuPerCall: number;
  commandsPerCall: number;
}

const QUEUE = 'cost';
const DATA = '{"i":1,"name":"benchmark","tags":["a","b"]}';

async function phase(
  redis: Redis,
  stats: Redis,
  name: string,
  calls: Array<string[]>,
  call: Caller,
  inFlight: number,
): Promise<PhaseResult> {
  const window = await RedisWindow.open(stats);
  let next = 0;
  const lane = async () => {
    while (next < calls.length) {
      const argv = calls[next++]!;
      await call(redis, argv);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const result = await window.close();
  const scriptStat = result.stats.get('evalsha') ?? result.stats.get('fcall');
  const scriptCalls = scriptStat?.calls ?? calls.length;
  const breakdown: Array<[string, number, number]> = [];
  for (const [command, stat] of result.stats) {
    if (command === 'evalsha' || command === 'fcall' || command === 'eval') continue;
    breakdown.push([command, stat.calls / calls.length, stat.usec / calls.length]);
  }
  breakdown.sort((a, b) => b[2] - a[2]);
  return {
    phase: name,
    breakdown,
    calls: calls.length,
    usecPerCall: scriptStat ? scriptStat.usec / scriptCalls : NaN,
    cpuPerCall: (result.cpuSeconds * 1e6) / calls.length,
    commandsPerCall: (result.commands - scriptCalls) / calls.length,
  };
}

async function runMode(mode: 'eval' | 'fcall', source: string, m: number, url: string): Promise<PhaseResult[]> {
  const redis = new Redis(url);
  const stats = new Redis(url);
  await redis.flushall();
  let call: Caller;
  if (mode === 'eval') {
    const sha = String(await redis.script('LOAD', source));
    call = (r, argv) => r.evalsha(sha, 0, ...argv);
  } else {
    const library = coreLibraryFrom(source);
    await redis.function('LOAD', 'REPLACE', library.source);
    call = (r, argv) => r.fcall(library.name, 0, ...argv);
  }
  const results: PhaseResult[] = [];
  let now = 1_700_000_000;
  const tick = () => String((now += 0.001));
  const jid = (i: number) => `job-${i}`;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  results.push(await phase(redis, stats, 'return 1 (EVAL of a one-line script)', range(m).map(() => ['x']), (r) => r.eval('return 1', 0), 50));
  results.push(await phase(redis, stats, 'config.get heartbeat', range(m).map(() => ['config.get', tick(), 'heartbeat']), call, 50));
  results.push(await phase(redis, stats, 'put (new job)', range(m).map((i) => ['put', tick(), 'w', QUEUE, jid(i), 'bench.Noop', DATA, '0', 'priority', '0', 'tags', '[]', 'retries', '5', 'depends', '[]']), call, 50));
  results.push(await phase(redis, stats, 'pop 1', range(m / 2).map(() => ['pop', tick(), QUEUE, 'w', '1']), call, 1));
  results.push(await phase(redis, stats, 'complete', range(m / 2).map((i) => ['complete', tick(), jid(i), 'w', QUEUE, DATA]), call, 50));
  results.push(await phase(redis, stats, 'pop 50 (per call)', range(m / 100).map(() => ['pop', tick(), QUEUE, 'w', '50']), call, 1));
  results.push(await phase(redis, stats, 'heartbeat', range(m / 2).map((i) => ['heartbeat', tick(), jid(m / 2 + i), 'w', DATA]), call, 50));
  results.push(await phase(redis, stats, 'complete (after batch pop)', range(m / 2).map((i) => ['complete', tick(), jid(m / 2 + i), 'w', QUEUE, DATA]), call, 50));
  results.push(await phase(redis, stats, 'get', range(m / 2).map((i) => ['get', tick(), jid(i)]), call, 50));
  redis.disconnect();
  stats.disconnect();
  return results;
}

function print(mode: string, results: PhaseResult[], verbose: boolean): void {
  console.log(`\n${mode}`);
  console.log('| phase | calls | µs per call (commandstats) | Redis CPU µs per call | Redis commands per call |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.phase} | ${r.calls} | ${r.usecPerCall.toFixed(1)} | ${r.cpuPerCall.toFixed(1)} | ${r.commandsPerCall.toFixed(1)} |`);
  }
  if (verbose) {
    for (const r of results) {
      const parts = r.breakdown.map(([command, calls, usec]) => `${command} ${calls.toFixed(2)}× ${usec.toFixed(1)}µs`);
      console.log(`  ${r.phase}: ${parts.join(', ')}`);
    }
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('core-cost')
    .description('Per-command Redis cost of the qless-ts core')
    .option('--script <file>', 'core script in EVALSHA form (default: dist/qless.lua)')
    .option('--mode <mode>', 'eval, fcall or both', 'both')
    .option('--m <calls>', 'calls per phase', '4000')
    .option('--verbose', 'list the Redis commands each phase ran, with their µs per call');
  program.parse();
  const options = program.opts<Options>();
  const source = options.script ? readFileSync(options.script, 'utf8') : coreScript().source;
  const m = Math.max(200, Math.round(Number(options.m) / 100) * 100);
  requireRedisServer();
  const server = await RedisServer.start();
  try {
    if (options.mode === 'eval' || options.mode === 'both') print('EVALSHA', await runMode('eval', source, m, server.url), Boolean(options.verbose));
    if (options.mode === 'fcall' || options.mode === 'both') print('FCALL', await runMode('fcall', source, m, server.url), Boolean(options.verbose));
  } finally {
    await server.dispose();
  }
}

await main();
