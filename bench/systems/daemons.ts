/**
 * Watching worker daemons from the outside, the same way for both systems.
 * W5: the window opens at the first completion, so process start-up is not
 * measured, and closes when all jobs are complete; the daemons' CPU (each
 * with the processes it forked) is measured over the same window. The harness polls the
 * completed set's size; those polls are its own commands and are not
 * counted. L: each latency job's method pushes the milliseconds since its
 * put onto `bench:latency`, where the harness waits for it.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { installStageMarks, STAGE_MARKS_ON, stageTable, takeStageMarks, type StageRecord } from '../lib/stage-marks.js';
import { monotonicMs, sleep, type BenchContext } from '../lib/types.js';
import type { WindowResult } from '../lib/window.js';

/**
 * Put latency jobs one at a time (`put` receives the data to send) on an
 * idle daemon, reading each one's put-to-start time from `blocking` (a
 * connection of its own: BLPOP holds it). A few first samples warm up and
 * are dropped.
 */
export async function sampleLatency(
  ctx: BenchContext,
  blocking: Redis,
  who: string,
  put: (data: { sentAt: number }) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  // With stage marks on (QLESS_TS_STAGE_MARKS=1), the harness marks its own put's write and reply.
  installStageMarks();
  const puts = new Map<number, StageRecord>();
  await sleep(500);
  const warmup = 5;
  for (let i = 0; i < ctx.latencySamples + warmup; i++) {
    await sleep(10 + Math.random() * 10);
    const sentAt = monotonicMs();
    await put({ sentAt });
    if (STAGE_MARKS_ON) puts.set(sentAt, takeStageMarks(sentAt));
    const reply = await blocking.blpop('bench:latency', 10);
    if (!reply) throw new Error(`${who} did not run the latency job within 10 s`);
    if (i >= warmup) samples.push(Number(reply[1]));
    ctx.progress(i + 1, ctx.latencySamples + warmup);
  }
  if (STAGE_MARKS_ON) await printStages(blocking, who, puts, warmup);
  return samples;
}

/** The stage table of the job records on `bench:marks`, with the harness's put write and reply (the first after each sentAt). */
async function printStages(redis: Redis, who: string, puts: Map<number, StageRecord>, warmup: number): Promise<void> {
  const texts = await redis.lrange('bench:marks', 0, -1);
  await redis.del('bench:marks');
  const records = texts.slice(warmup).map((text) => {
    const record = JSON.parse(text) as StageRecord;
    const harness = puts.get(record.sentAt)?.marks ?? [];
    const written = harness.find(([name]) => name.startsWith('w:'));
    const replied = harness.find(([name]) => name.startsWith('r:'));
    if (written) record.marks.push(['put written', written[1]]);
    if (replied) record.marks.push(['put reply (harness)', replied[1]]);
    return record;
  });
  process.stderr.write(`\n${stageTable(who, records)}\n`);
  // QLESS_TS_STAGE_MARKS_FILE: every record too, one JSON line each, to look at more than medians.
  const file = process.env['QLESS_TS_STAGE_MARKS_FILE'];
  if (file) appendFileSync(file, records.map((record) => `${JSON.stringify({ who, ...record })}\n`).join(''));
}

export async function watchCompletions(
  ctx: BenchContext,
  completedKey: string,
  total: number,
  daemons: readonly number[],
  died: () => boolean,
): Promise<{ jobs: number; window: WindowResult }> {
  const deadline = Date.now() + 300_000;
  const check = (): void => {
    if (died()) throw new Error('a worker daemon exited before the jobs were done');
    if (Date.now() > deadline) throw new Error(`the worker daemons did not complete ${total} jobs within 5 minutes`);
  };
  while ((await ctx.stats.zcard(completedKey)) === 0) {
    check();
    await sleep(2);
  }
  const window = await ctx.openWindow({ daemons });
  const first = await ctx.stats.zcard(completedKey);
  window.note('zcard');
  let count = first;
  while (count < total) {
    check();
    ctx.progress(count, total);
    await sleep(5);
    count = await ctx.stats.zcard(completedKey);
    window.note('zcard');
  }
  const result = await window.close();
  return { jobs: count - first, window: result };
}

/** Stop a daemon process with SIGTERM, as an operator would; SIGKILL if it has not exited within 15 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
