/**
 * L between two builds of qless-ts, sample by sample: two idle worker
 * daemons, one from this checkout and one from another (`--other <dir>`, a
 * built checkout, e.g. of main), each with a private Redis of its own; the
 * harness puts a `bench.Latency` job to each in turn,
 * as `npm run bench`'s L does (10–20 ms apart), so that the machine's load
 * falls alike on both. On a shared machine this tells small differences
 * apart that whole runs, minutes apart, do not. With QLESS_TS_STAGE_MARKS=1
 * (both checkouts having bench/lib/stage-marks.ts) it also prints each
 * side's stage table (see bench/lib/stage-marks.ts).
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
import { installStageMarks, STAGE_MARKS_ON, stageTable, takeStageMarks, type StageRecord } from './lib/stage-marks.js';
import { monotonicMs, sleep } from './lib/types.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const QUEUE = 'latency';

interface Side {
  name: string;
  root: string;
  samples: number[];
  server?: RedisServer;
  client?: qless.Client;
  blocking?: Redis;
  /** With stage marks: the harness's own marks of each measured put, by its sentAt. */
  puts: Map<number, StageRecord>;
  daemon?: ChildProcess;
  workdir?: string;
}

function startDaemon(url: string, side: Side): void {
  side.workdir = mkdtempSync(join(tmpdir(), 'qless-ts-ab-'));
  side.daemon = spawn(
    process.execPath,
    [
      join(side.root, 'bin', 'qless-ts-worker.js'), '--host', url, '--queue', QUEUE, '--workers', '1', '--path', join(side.root, 'bench', 'jobs'), '--interval', '60', '--workdir', side.workdir,
      ...(STAGE_MARKS_ON ? ['--import', join(side.root, 'bench', 'lib', 'stage-marks-install.ts')] : []),
    ],
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
    { name: 'this', root: ROOT, samples: [], puts: new Map() },
    { name: 'other', root: resolve(options.other), samples: [], puts: new Map() },
  ];
  installStageMarks();
  try {
    // A Redis each: neither daemon hears of the other's puts (every put is
    // published to every subscriber, in the order they subscribed).
    for (const side of sides) {
      side.server = await RedisServer.start();
      side.client = qless.client(side.server.url, { workerName: 'ab-harness' });
      side.blocking = new Redis(side.server.url);
      await side.client.config.get('heartbeat');
      startDaemon(side.server.url, side);
    }
    // Both idle: each child has popped once and found nothing.
    for (const side of sides) {
      for (let i = 0; (await side.client!.redis.zcard(DEFAULT_KEYS.workers)) === 0; i++) {
        if (i > 600) throw new Error(`the ${side.name} daemon did not start`);
        await sleep(50);
      }
    }
    await sleep(500);
    const warmup = 5;
    for (let i = 0; i < options.samples + warmup; i++) {
      // Each pair in a random order, so that neither always goes first.
      const order = Math.random() < 0.5 ? sides : [...sides].reverse();
      for (const side of order) {
        await sleep(10 + Math.random() * 10);
        const sentAt = monotonicMs();
        await side.client!.queue(QUEUE).put('bench.Latency', { sentAt });
        const marks = STAGE_MARKS_ON ? takeStageMarks(sentAt) : undefined;
        const reply = await side.blocking!.blpop('bench:latency', 10);
        if (!reply) throw new Error(`${side.name} did not run the latency job within 10 s`);
        if (i >= warmup) side.samples.push(Number(reply[1]));
        if (i >= warmup && marks) side.puts.set(sentAt, marks);
      }
    }
    for (const side of sides) {
      const s = side.samples;
      process.stdout.write(`${side.name.padEnd(6)} ${side.root}: n ${s.length} p10 ${quantile(s, 0.1).toFixed(3)} p50 ${quantile(s, 0.5).toFixed(3)} p90 ${quantile(s, 0.9).toFixed(3)} p99 ${quantile(s, 0.99).toFixed(3)} ms\n`);
    }
    if (STAGE_MARKS_ON) for (const side of sides) await printStages(side);
    const [a, b] = sides as [Side, Side];
    process.stdout.write(`this / other: p50 ${(quantile(a.samples, 0.5) / quantile(b.samples, 0.5)).toFixed(3)}×, p99 ${(quantile(a.samples, 0.99) / quantile(b.samples, 0.99)).toFixed(3)}×\n`);
  } finally {
    for (const side of sides) {
      if (side.daemon) await stopProcess(side.daemon);
      if (side.workdir) rmSync(side.workdir, { recursive: true, force: true });
      side.blocking?.disconnect();
      await side.client?.close();
      await side.server?.stop();
    }
  }
}

/** A side's stage table, from its jobs' records and the harness's marks of its puts. */
async function printStages(side: Side): Promise<void> {
  const records = (await side.blocking!.lrange('bench:marks', 0, -1)).map((text) => JSON.parse(text) as StageRecord);
  const mine = records.filter((record) => side.puts.has(record.sentAt));
  for (const record of mine) {
    const written = side.puts.get(record.sentAt)!.marks.find(([name]) => name.startsWith('w:'));
    if (written) record.marks.push(['put written', written[1]]);
  }
  process.stdout.write(`${stageTable(`${side.name} (${side.root})`, mine)}\n`);
}

await main();
