/**
 * Job code the qless-ts worker daemon runs in the benchmark: klass
 * `bench.Noop` (W5) and `bench.Latency` (L), found under `--path bench/jobs`
 * by the klass rule. Both return without settling the job, so the worker
 * completes it.
 */
import type { Job } from '../../src/index.js';
import { mark, STAGE_MARKS_ON, takeStageMarks } from '../lib/stage-marks.js';

/** Does nothing. */
export class Noop {
  static process(): void {}
}

/**
 * Reports how long after its put (the job's `sentAt`, ms of the machine's
 * monotonic clock, see bench/lib/types.ts) its method started, on the list
 * `bench:latency` the harness waits on.
 */
export class Latency {
  static async process(job: Job): Promise<void> {
    const started = Number(process.hrtime.bigint()) / 1e6;
    const sentAt = Number(job.data['sentAt']);
    if (STAGE_MARKS_ON) {
      mark('method');
      const record = takeStageMarks(sentAt);
      await job.client.redis.rpush('bench:marks', JSON.stringify(record));
    }
    await job.client.redis.rpush('bench:latency', String(started - sentAt));
  }
}
