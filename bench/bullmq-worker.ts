/**
 * A BullMQ worker process for the benchmark (W5 and L), started by the
 * harness: `node --import tsx bench/bullmq-worker.ts <host> <port> <queue> noop|latency`.
 * One bullmq Worker with its default concurrency. It says `ready` over IPC
 * once connected and closes the worker on SIGTERM.
 */
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { installStageMarks, mark, STAGE_MARKS_ON, takeStageMarks } from './lib/stage-marks.js';

installStageMarks();

const [host = '127.0.0.1', portText = '0', queue = 'bench', mode = 'noop'] = process.argv.slice(2);
const connection = { host, port: Number(portText) };
const reporter = mode === 'latency' ? new Redis(connection) : undefined;

async function latency(job: Job<{ sentAt: number }>): Promise<void> {
  // The machine's monotonic clock, as the harness's sentAt (bench/lib/types.ts).
  const started = Number(process.hrtime.bigint()) / 1e6;
  if (STAGE_MARKS_ON) {
    mark('method');
    await reporter!.rpush('bench:marks', JSON.stringify(takeStageMarks(job.data.sentAt)));
  }
  await reporter!.rpush('bench:latency', String(started - job.data.sentAt));
}

const worker = new Worker(queue, mode === 'latency' ? latency : async () => undefined, { connection });
worker.on('error', (error) => process.stderr.write(`bullmq worker: ${error.message}\n`));

process.on('SIGTERM', () => {
  void worker.close().finally(() => {
    reporter?.disconnect();
    process.exit(0);
  });
});

await worker.waitUntilReady();
process.send?.('ready');
