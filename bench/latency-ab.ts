/**
 * L between two builds of qless-ts, sample by sample: two idle worker
 * daemons on one private Redis, one from this checkout and one from
 * another (`--other <dir>`, a built checkout, e.g. of main), each on a
 * queue of its own; the harness puts a `bench.Latency` job to each in turn,
 * as `npm run bench`'s L does (10–20 ms apart), so that the machine's load
 * falls alike on both. On a shared machine this tells small differences
 * apart that whole runs, minutes apart, do not.
 *
 *   node --import tsx bench/latency-ab.ts --other /path/to/checkout [--samples 400]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import * as qless from '../src/index.js';
import { RedisServer } from '../src/dev/redis-server.js';
import { DEFAULT_KEYS } from '../src/keys.js';
import { stopProcess } from './systems/daemons.js';
import { monotonicMs, sleep } from './lib/types.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Side {
  name: string;
  root: string;
  queue: string;
  samples: number[];
  daemon?: ChildProcess;
  workdir?: string;
}

function startDaemon(url: string, side: Side): void {
  side.workdir = mkdtempSync(join(tmpdir(), 'qless-ts-ab-'));
  side.daemon = spawn(
    process.execPath,
    [join(side.root, 'bin', 'qless-ts-worker.js'), '--host', url, '--queue', side.queue, '--workers', '1', '--path', join(side.root, 'bench', 'jobs'), '--interval', '60', '--workdir', side.workdir],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const options = new Command()
    .requiredOption('--other <dir>', 'another built checkout of qless-ts')
    .option('--samples <n>', 'samples per side', (v) => Number(v), 400)
    .parse()
    .opts<{ other: string; samples: number }>();
  const sides: Side[] = [
    { name: 'this', root: ROOT, queue: 'ab-this', samples: [] },
    { name: 'other', root: resolve(options.other), queue: 'ab-other', samples: [] },
  ];
  const server = await RedisServer.start();
  const client = qless.client(server.url, { workerName: 'ab-harness' });
  const blocking = new Redis(server.url);
  try {
    await client.config.get('heartbeat');
    for (const side of sides) startDaemon(server.url, side);
    // Both idle: each child has popped once and found nothing.
    for (let i = 0; (await client.redis.zcard(DEFAULT_KEYS.workers)) < sides.length; i++) {
      if (i > 600) throw new Error('the daemons did not start');
      await sleep(50);
    }
    await sleep(500);
    const warmup = 5;
    for (let i = 0; i < options.samples + warmup; i++) {
      // Each pair in a random order, so that neither always goes first.
      const order = Math.random() < 0.5 ? sides : [...sides].reverse();
      for (const side of order) {
        await sleep(10 + Math.random() * 10);
        await client.queue(side.queue).put('bench.Latency', { sentAt: monotonicMs() });
        const reply = await blocking.blpop('bench:latency', 10);
        if (!reply) throw new Error(`${side.name} did not run the latency job within 10 s`);
        if (i >= warmup) side.samples.push(Number(reply[1]));
      }
    }
    for (const side of sides) {
      const s = side.samples;
      process.stdout.write(`${side.name.padEnd(6)} ${side.root}: n ${s.length} p10 ${quantile(s, 0.1).toFixed(3)} p50 ${quantile(s, 0.5).toFixed(3)} p90 ${quantile(s, 0.9).toFixed(3)} p99 ${quantile(s, 0.99).toFixed(3)} ms\n`);
    }
    const [a, b] = sides as [Side, Side];
    process.stdout.write(`this / other: p50 ${(quantile(a.samples, 0.5) / quantile(b.samples, 0.5)).toFixed(3)}×, p99 ${(quantile(a.samples, 0.99) / quantile(b.samples, 0.99)).toFixed(3)}×\n`);
  } finally {
    for (const side of sides) {
      if (side.daemon) await stopProcess(side.daemon);
      if (side.workdir) rmSync(side.workdir, { recursive: true, force: true });
    }
    blocking.disconnect();
    await client.close();
    await server.stop();
  }
}

await main();
