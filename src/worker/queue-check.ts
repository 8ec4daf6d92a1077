/**
 * Queues no job was ever put in. A worker started with a misspelt `--queue`
 * (`emials`) pops an empty queue for ever while the real one fills up, and
 * nothing looks wrong. So at start the supervisor looks its queues up in the
 * core's list of queues (`ql:queues`, every queue a job was put in) and
 * warns about each one that is not there, with the known queue it most
 * likely meant. Only a warning: a queue may be new, its first job yet to
 * come, and the worker pops it all the same.
 */
import type { Client } from '../client.js';
import { closestName } from '../suggest.js';
import { errorFields, type Logger } from './logger.js';

/** Log a warning for each of `queues` the core does not know. Best effort: a failed read is logged at debug level. */
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
    log.warn(
      { queue, ...(hint === undefined ? {} : { didYouMean: hint }) },
      `no job has ever been put in queue ${queue}${hint === undefined ? '' : ` (did you mean ${hint}?)`}; this worker pops it all the same and runs its jobs once some are put`,
    );
  }
}
