/**
 * A child's round trips to the core: the completions of its finished jobs
 * travel together with the pop of its next jobs, as one `multi` call (one
 * write, one reply), the way BullMQ's worker finishes a job and fetches the
 * next in one script call. Each completion is still its own command in the
 * core, atomic on its own and with its own outcome; only the trip is shared.
 */
import type { Client } from '../client.js';
import type { CoreCall } from '../gateway.js';
import { completeJobs, Job } from '../job.js';
import * as wire from '../wire.js';
import { stageMark } from '../stage-marks.js';

/** A finished job whose completion waits to be sent. */
export interface Completion {
  job: Job;
  /** The core completed the job. */
  resolve(): void;
  /** It did not: a ConnectionError, or the core's typed refusal. */
  reject(error: unknown): void;
}

/** A pop to send along: up to `count` jobs of `queue`, locked as `worker`. */
export interface PopRequest {
  queue: string;
  worker: string;
  count: number;
}

/** The `pop.raw` call of a request (the core's pop, replying with stored fields). */
function popCall(pop: PopRequest): CoreCall {
  return { command: 'pop.raw', args: [pop.queue, pop.worker, pop.count] };
}

/** What a pop brought: jobs, or how long the queue's rate limit holds its jobs back. */
export interface Popped {
  jobs: Job[];
  /** Seconds until the queue's rate limit allows the next start (set only when it gave no job for that reason). */
  rateWaitSeconds: number | undefined;
}

/** Jobs from a `pop.raw` reply. */
export function poppedJobs(client: Client, reply: unknown): Popped {
  stageMark('pop reply read');
  const { records, rateWaitSeconds } = wire.popReply('pop', reply as never);
  const jobs = records.map((record) => new Job(client, record));
  stageMark('jobs made');
  return { jobs, rateWaitSeconds };
}

/**
 * Complete `done` and, in the same round trip, pop as `pop` asks. Every
 * completion is settled with its own outcome; the popped jobs are returned,
 * and an error of the pop itself is thrown (the completions were still
 * applied). Without a pop nothing is thrown. A queue whose rate limit
 * allows no start now gives no jobs and the seconds until it will.
 */
export function completeAndPop(client: Client, done: readonly Completion[], pop?: PopRequest): Promise<Popped> {
  if (done.length === 0 && pop !== undefined) {
    // A pop alone (an idle child woken by a put): the gateway's lone call,
    // read as it arrives, rather than a one-call batch and its outcome
    // objects. Errors are the same (the pop's own, typed); fewer steps lie
    // between the put's event and the pop's write, and between its reply
    // and the job's start.
    return client.gateway.callAndRead('pop.raw', [pop.queue, pop.worker, pop.count], (reply) => poppedJobs(client, reply));
  }
  return completeThenPop(client, done, pop);
}

async function completeThenPop(client: Client, done: readonly Completion[], pop?: PopRequest): Promise<Popped> {
  let completed;
  let after;
  try {
    ({ completed, after } = await completeJobs(client, done.map((entry) => entry.job), pop ? [popCall(pop)] : []));
  } catch (error) {
    for (const entry of done) entry.reject(error);
    if (pop) throw error;
    return { jobs: [], rateWaitSeconds: undefined };
  }
  completed.forEach((outcome, i) => {
    if (outcome.ok) done[i]!.resolve();
    else done[i]!.reject(outcome.error);
  });
  if (!pop) return { jobs: [], rateWaitSeconds: undefined };
  const popped = after[0]!;
  if (!popped.ok) throw popped.error;
  return poppedJobs(client, popped.reply);
}


/**
 * What one trip popped: the jobs, the last error of a queue whose pop
 * failed, whether any queue answered, and whether every queue was asked (a
 * trip filled by its first queues says nothing of the others).
 */
export interface TripResult {
  jobs: Job[];
  failure: unknown;
  answered: boolean;
  askedAll: boolean;
  /** The shortest wait a queue's rate limit asked for (seconds), when one held its jobs back. */
  rateWaitSeconds: number | undefined;
}

/**
 * Send the completions waiting in `completing` (taken out of it), and pop
 * up to `count` jobs as `worker` from `queues` in their order (the child's
 * --reserver order for this trip): the first queue's pop rides with the
 * completions, later queues are asked only when the earlier ones had too
 * few. A queue whose pop fails does not stop the others, nor lose the jobs
 * they gave. The first pop is written before this returns its promise.
 */
export async function popQueues(client: Client, queues: Iterable<string>, completing: Completion[], worker: string, count: number): Promise<TripResult> {
  const popped: TripResult = { jobs: [], failure: undefined, answered: false, askedAll: true, rateWaitSeconds: undefined };
  for (const queue of queues) {
    if (popped.jobs.length >= count) {
      popped.askedAll = false;
      break;
    }
    try {
      const got = await completeAndPop(client, completing.splice(0), { queue, worker, count: count - popped.jobs.length });
      popped.jobs.push(...got.jobs);
      if (got.rateWaitSeconds !== undefined) popped.rateWaitSeconds = Math.min(popped.rateWaitSeconds ?? Infinity, got.rateWaitSeconds);
      popped.answered = true;
    } catch (error) {
      popped.failure = error;
    }
  }
  return popped;
}
