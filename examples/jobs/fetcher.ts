/**
 * An I/O-bound job: it mostly waits (here on a timer standing in for an HTTP
 * call or a database). Run it with `--concurrency 10` and one child keeps
 * ten of them in flight at once. It passes `job.signal` on, so it stops
 * waiting as soon as the worker aborts it (lock lost, canceled, shutdown).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../../src/index.js';

export class Fetch {
  static klass = 'fetcher.Fetch';

  static async process(job: Job): Promise<void> {
    const url = String(job.data['url'] ?? '');
    const started = Date.now();
    job.data['started_at'] = started;
    if (url.startsWith('http://') || url.startsWith('https://')) {
      const response = await fetch(url, { signal: job.signal });
      job.data['status'] = response.status;
      job.data['bytes'] = (await response.arrayBuffer()).byteLength;
    } else {
      await sleep(Number(job.data['ms'] ?? 500), undefined, { signal: job.signal });
    }
    const finished = Date.now();
    job.data['finished_at'] = finished;
    job.data['took_ms'] = finished - started;
    await job.complete();
  }
}
