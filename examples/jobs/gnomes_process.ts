/**
 * The same pipeline with a single `process` method that branches on the
 * job's queue: the worker calls `process` when the class has no method named
 * after the queue.
 */
import type { Job } from '../../src/index.js';

const NEXT: Record<string, string | undefined> = { underpants: 'unknown', unknown: 'profit', profit: undefined };

export class GnomesJob {
  static klass = 'gnomes_process.GnomesJob';

  static async process(job: Job): Promise<void> {
    const steps = Array.isArray(job.data['steps']) ? job.data['steps'].map(String) : [];
    job.data['steps'] = [...steps, job.queue];
    const next = NEXT[job.queue];
    if (next === undefined) await job.complete();
    else await job.complete(next);
  }
}
