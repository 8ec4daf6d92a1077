/**
 * What throttles and rate limits cost a pop and a complete, inside Redis
 * (INFO commandstats of FCALL, the form qless-ts calls), on a private
 * redis-server: the same 2000 pop-then-complete rounds on a queue without
 * any limit, then with each kind of limit in use (none of them ever full,
 * so every round does the same work apart from the limit's bookkeeping).
 *
 *   node --import tsx bench/throttle-cost.ts [--jobs 2000]
 */
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { RedisServer } from '../src/dev/redis-server.js';
import { coreLibraryFrom, coreScript } from '../src/script.js';
import { requireRedisServer, RedisWindow } from './lib/redis-stats.js';

interface Scenario {
  name: string;
  /** Extra put options of every job. */
  put: string[];
  /** Core calls (command and arguments, without `now`) made before the jobs are put. */
  setup: string[][];
}

const SCENARIOS: Scenario[] = [
  { name: 'no limit', put: [], setup: [] },
  { name: 'jobs name an unlimited throttle', put: ['throttles', '["api"]'], setup: [] },
  { name: 'jobs name a throttle (max 1000)', put: ['throttles', '["api"]'], setup: [['throttle.set', 'api', '1000']] },
  { name: 'queue\'s own throttle (max 1000)', put: [], setup: [['queue.throttle.set', 'q', '1000']] },
  { name: 'rate limit 1e6 per second', put: [], setup: [['config.set', 'q-rate-limit', '1000000']] },
];

async function main(): Promise<void> {
  const options = new Command().option('--jobs <n>', 'rounds per scenario', '2000').parse().opts<{ jobs: string }>();
  const n = Number(options.jobs);
  requireRedisServer();
  const server = await RedisServer.start();
  const redis = new Redis(server.url);
  const stats = new Redis(server.url);
  const library = coreLibraryFrom(coreScript().source);
  await redis.function('LOAD', 'REPLACE', library.source);
  let now = 1_700_000_000;
  const call = (command: string, ...args: string[]) => redis.fcall(library.name, 0, command, String((now += 0.001)), ...args);
  console.log('| scenario | pop 1: µs | pop 1: Redis commands | complete: µs | complete: Redis commands |');
  console.log('|---|---:|---:|---:|---:|');
  try {
    for (const scenario of SCENARIOS) {
      await redis.flushall();
      for (const argv of scenario.setup) await call(argv[0]!, ...argv.slice(1));
      for (let i = 0; i < n; i++) await call('put', 'w', 'q', `j${i}`, 'bench.Noop', '{}', '0', ...scenario.put);
      let popUsec = 0, popCommands = 0, completeUsec = 0, completeCommands = 0;
      for (let i = 0; i < n; i++) {
        let window = await RedisWindow.open(stats);
        await call('pop', 'q', 'w', '1');
        let result = await window.close();
        popUsec += result.stats.get('fcall')?.usec ?? 0;
        popCommands += result.commands - 1;
        window = await RedisWindow.open(stats);
        await call('complete', `j${i}`, 'w', 'q', '{}');
        result = await window.close();
        completeUsec += result.stats.get('fcall')?.usec ?? 0;
        completeCommands += result.commands - 1;
      }
      console.log(`| ${scenario.name} | ${(popUsec / n).toFixed(1)} | ${(popCommands / n).toFixed(1)} | ${(completeUsec / n).toFixed(1)} | ${(completeCommands / n).toFixed(1)} |`);
    }
  } finally {
    redis.disconnect();
    stats.disconnect();
    await server.dispose();
  }
}

await main();
