/**
 * What `durability: { replicas: 1 }` costs: jobs/s with and without it, on a
 * private primary + replica (+ 3 Sentinels, connected through them) on
 * loopback. Not a test: run it by hand, after `npm run build`:
 *
 *   node --import tsx test/sentinel.durability-cost.ts [--n 2000] [--runs 3]
 *
 * Three shapes, each measured without and with durability back to back
 * (alternating which goes first, after one warm-up round); printed are the
 * medians of the rates and the median of the paired ratios, which shared
 * machines disturb less:
 * - put one at a time (each put waits for its WAIT);
 * - put with 50 in flight (the puts of one tick share a round trip and one WAIT);
 * - pop 50 and complete them in one round trip, until the queue is empty.
 */
import * as qless from '../src/index.js';
import { SentinelDeployment } from './support/sentinel.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const N = flag('n', 2000);
const RUNS = flag('runs', 3);
const DURABILITY = { replicas: 1, timeoutMs: 1000 };

type Shape = (client: qless.Client, queue: string) => Promise<number>;

const shapes: Record<string, Shape> = {
  'put one at a time': async (client, queue) => {
    const start = performance.now();
    for (let i = 0; i < N; i++) await client.queue(queue).put('a.B', {});
    return performance.now() - start;
  },
  'put, 50 in flight': async (client, queue) => {
    const start = performance.now();
    for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, () => client.queue(queue).put('a.B', {})));
    return performance.now() - start;
  },
  'pop 50 + complete them in one trip': async (client, queue) => {
    for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, () => client.queue(queue).put('a.B', {})));
    const start = performance.now();
    let jobs = await client.queue(queue).pop(50);
    while (jobs.length > 0) ({ jobs } = await client.queue(queue).completeAndPop(jobs));
    return performance.now() - start;
  },
};

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const deployment = await SentinelDeployment.start();
const plain = qless.client(deployment.url, { workerName: 'bench' });
const durable = qless.client(deployment.url, { workerName: 'bench', durability: DURABILITY });
try {
  console.log(`durability cost: ${N} jobs per shape, ${RUNS} runs, primary + 1 replica on loopback, redis+sentinel:// URL`);
  console.log('shape                                 plain jobs/s  durable jobs/s  durable/plain (paired)');
  let run = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const rates: Record<'plain' | 'durable', number[]> = { plain: [], durable: [] };
    for (let r = -1; r < RUNS; r++) {
      // Alternate which goes first, so that neither always meets a warmer server.
      const order = [['plain', plain], ['durable', durable]] as const;
      for (const [kind, client] of r % 2 === 0 ? order : [...order].reverse()) {
        const queue = `cost-${run++}`;
        const ms = await shape(client, queue);
        if (r >= 0) rates[kind].push((N / ms) * 1000);
        await client.queue(queue).forget();
      }
    }
    const ratios = rates.plain.map((p, i) => rates.durable[i]! / p);
    console.log(`${name.padEnd(38)}${median(rates.plain).toFixed(0).padStart(12)}${median(rates.durable).toFixed(0).padStart(16)}${median(ratios).toFixed(2).padStart(15)}`);
  }
} finally {
  await Promise.all([plain.close(), durable.close()]);
  await deployment.stop();
}
