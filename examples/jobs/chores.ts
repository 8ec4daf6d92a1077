/**
 * A recurring job: `queue('chores').recur(Sweep, { log: 'swept' }, { interval: 60 })`
 * puts a child `<jid>-1`, `<jid>-2`, … every minute; a worker polling
 * `chores` runs each one (scheduled work is found by the --interval poll).
 * Each child appends a line to the list named by its data's `log`.
 */
import type { Job } from '../../src/index.js';

export class Sweep {
  static klass = 'chores.Sweep';

  static async process(job: Job): Promise<void> {
    await job.client.redis.rpush(String(job.data['log']), `${job.jid} swept ${String(job.data['room'] ?? 'the floor')}`);
  }
}
