/**
 * `client.jobs`: finding jobs across queues (by jid, tag, failure group,
 * completion or tracking) and acting on several at once.
 */
import * as args from './args.js';
import { checkStrings } from './json.js';
import { completeJobs, heartbeatJobs, jobFromValue, type CompleteOutcome, type HeartbeatOutcome, type Job } from './job.js';
import { RecurringJob } from './recurring.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { TaggedJids } from './types.js';

/** Jobs in one failure group, newest failure first. */
export interface FailedJobs {
  /** Size of the whole group, whatever the page. */
  total: number;
  jobs: Job[];
}

/** The tracked jobs, and the tracked jids whose job no longer exists. */
export interface TrackedJobs {
  jobs: Job[];
  expired: string[];
}

/** `client.jobs`: jobs by jid, tag, failure group, completion or tracking. */
export class Jobs {
  readonly #client: Client;

  /** @internal Use `client.jobs`. */
  constructor(client: Client) {
    this.#client = client;
  }

  /**
   * With one jid: that job, else the recurring job of that id, else `null`.
   * With two or more: the jobs that exist, in the order asked (missing ones
   * are left out, recurring jobs are not looked up). To pass an array, use
   * {@link Jobs.multiget}.
   */
  get(jid: string): Promise<Job | RecurringJob | null>;
  get(jid1: string, jid2: string, ...more: string[]): Promise<Job[]>;
  async get(...jids: string[]): Promise<Job | RecurringJob | null | Job[]> {
    if (jids.length !== 1) return this.multiget(jids);
    const jid = args.name(jids[0], 'jid');
    const reply = await this.#client.call('get', jid);
    if (reply !== null) return jobFromValue(this.#client, 'get', wire.json('get', reply));
    const recurring = await this.#client.call('recur.get', jid);
    if (recurring === null) return null;
    return new RecurringJob(this.#client, wire.recurringRecord('recur.get', wire.json('recur.get', recurring)));
  }

  /** The jobs of these jids that exist, in the order asked. */
  async multiget(jids: readonly string[]): Promise<Job[]> {
    const list = checkStrings(jids, 'jids');
    if (list.length === 0) return [];
    const reply = await this.#client.call('multiget', ...list);
    return wire.jsonList('multiget', reply).map((value) => jobFromValue(this.#client, 'multiget', value));
  }

  /** Jids of completed jobs, most recently completed first. */
  async complete(offset = 0, count = 25): Promise<string[]> {
    const reply = await this.#client.call('jobs', 'complete', args.integer(offset, 'offset'), args.integer(count, 'count'));
    return wire.strings('jobs', reply);
  }

  /** Every tracked job, plus the tracked jids whose job is gone. */
  async tracked(): Promise<TrackedJobs> {
    const value = wire.jsonObject('track', await this.#client.call('track'));
    return {
      jobs: wire.list(value['jobs']).map((job) => jobFromValue(this.#client, 'track', job)),
      expired: wire.stringList('track', value['expired']),
    };
  }

  /** Jids carrying `tag`, oldest tagging first. */
  async tagged(tag: string, offset = 0, count = 25): Promise<TaggedJids> {
    const reply = await this.#client.call('tag', 'get', args.name(tag, 'tag'), args.integer(offset, 'offset'), args.integer(count, 'count'));
    return wire.jidPage('tag', reply);
  }

  /**
   * Without a group: each failure group with its number of jobs. With a
   * group: a page of its jobs, newest failure first.
   */
  failed(): Promise<Record<string, number>>;
  failed(group: string, start?: number, limit?: number): Promise<FailedJobs>;
  async failed(group?: string, start = 0, limit = 25): Promise<Record<string, number> | FailedJobs> {
    if (group === undefined) return wire.failedCounts('failed', await this.#client.call('failed'));
    const reply = await this.#client.call('failed', args.name(group, 'group'), args.integer(start, 'start'), args.integer(limit, 'limit'));
    const { total, jids } = wire.jidPage('failed', reply);
    return { total, jobs: await this.multiget(jids) };
  }

  /**
   * Cancel several jobs at once: the way to cancel a job together with the
   * jobs that depend on it. Returns the jids given.
   */
  async cancel(...jids: string[]): Promise<string[]> {
    const list = checkStrings(jids, 'jids');
    if (list.length === 0) return [];
    return wire.strings('cancel', await this.#client.call('cancel', ...list));
  }

  /**
   * Complete many jobs held by this client in one round trip (a pipeline;
   * each completion is atomic on its own). Each outcome carries the core's
   * answer (`complete`, or where an advanced job went) or the error
   * (LostLockError when the core refused); each job's object is updated as
   * by {@link Job.complete}. Nothing is thrown for a single job's failure.
   */
  async completeMany(jobs: readonly Job[]): Promise<CompleteOutcome[]> {
    return (await completeJobs(this.#client, jobs)).completed;
  }

  /**
   * Heartbeat many jobs held by this client in one round trip; each outcome
   * carries the new expiry or the error (LostLockError when the core
   * refused). Updates each job's `expires`.
   */
  heartbeat(jobs: readonly Job[]): Promise<HeartbeatOutcome[]> {
    return heartbeatJobs(this.#client, jobs);
  }
}
