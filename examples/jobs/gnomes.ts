/**
 * The gnomes' business plan, one static method per queue:
 *   1. collect underpants   2. ?   3. profit
 * Each step records what it did in the job's data and completes the job into
 * the next queue; the worker calls the method named after the job's queue.
 *
 * Put one with `queue('underpants').put(GnomesJob, { address: '…' })` and run
 * `qless-ts-worker --path examples/jobs -q underpants -q unknown -q profit`.
 */
import type { Job } from '../../src/index.js';
// In your own project: import type { Job } from 'qless-ts';

export class GnomesJob {
  /** The klass the worker finds this class by: module `gnomes` under --path, export `GnomesJob`. */
  static klass = 'gnomes.GnomesJob';

  static async underpants(job: Job): Promise<void> {
    job.data['collected'] = 12;
    job.data['steps'] = [...steps(job), 'underpants'];
    await job.complete('unknown');
  }

  static async unknown(job: Job): Promise<void> {
    job.data['plan'] = '?';
    job.data['steps'] = [...steps(job), 'unknown'];
    await job.complete('profit');
  }

  static async profit(job: Job): Promise<void> {
    job.data['steps'] = [...steps(job), 'profit'];
    job.data['profit'] = Number(job.data['collected'] ?? 0) * 2;
    // No complete() here: a method that returns without completing, failing
    // or retrying its job has it completed by the worker.
  }
}

function steps(job: Job): string[] {
  const value = job.data['steps'];
  return Array.isArray(value) ? value.map(String) : [];
}
