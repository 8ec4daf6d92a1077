/**
 * The omelette: `MakeOmelette` is put with `depends: [eggs, pan]`, so it
 * waits in the `depends` state until both purchases completed. The jobs
 * share a pantry: the Redis list named by their data's `pantry`.
 */
import type { Job } from '../../src/index.js';

export class BuyEggs {
  static klass = 'kitchen.BuyEggs';

  static async buy_eggs(job: Job): Promise<void> {
    await job.client.redis.rpush(String(job.data['pantry']), `${job.data['count'] ?? 6} eggs`);
  }
}

export class BuyPan {
  static klass = 'kitchen.BuyPan';

  static async buy_pan(job: Job): Promise<void> {
    await job.client.redis.rpush(String(job.data['pantry']), 'a pan');
  }
}

export class MakeOmelette {
  static klass = 'kitchen.MakeOmelette';

  static async cook(job: Job): Promise<void> {
    // Both dependencies completed before this job could be popped.
    const pantry = await job.client.redis.lrange(String(job.data['pantry']), 0, -1);
    job.data['made_with'] = pantry.sort();
    await job.complete();
  }
}
