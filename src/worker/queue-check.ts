/**
 * Misspelt queues. A worker started with `--queue emials` pops an empty
 * queue for ever while `emails` fills up, and nothing looks wrong. So at
 * start the supervisor looks its queues up in the core's list of queues
 * (`ql:queues`, every queue a job was put in) and warns about each one that
 * is not there but is a typo away from one that is. A queue that is merely
 * new (the later stages of a pipeline, say, before the first job reaches
 * them) is nothing to warn about. The worker pops every queue all the same.
 */
import type { Client } from '../client.js';
import { closestName } from '../suggest.js';
import { errorFields, type Logger } from './logger.js';

/** Log a warning for each of `queues` the core does not know that looks like a known one misspelt. Best effort: a failed read is logged at debug level. */
export async function warnUnknownQueues(client: Client, queues: readonly string[], log: Logger): Promise<void> {
  let known: Set<string>;
  try {
    known = new Set(await client.redis.zrange(client.keys.queues, 0, -1));
  } catch (error) {
    log.debug({ ...errorFields(error) }, 'could not read the list of queues');
    return;
  }
  for (const queue of queues) {
    if (known.has(queue)) continue;
    const hint = closestName(queue, known);
    if (hint === undefined) continue;
    log.warn({ queue, didYouMean: hint }, `no job has ever been put in queue ${queue} (did you mean ${hint}?); this worker pops it all the same and runs its jobs once some are put`);
  }
}
