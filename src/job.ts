/**
 * A job as read from the core, with the calls that act on it. A Job is a
 * snapshot: its fields are what the core said when it was read, updated by
 * the calls made through this object, never by other clients. Its methods
 * know nothing about workers; the worker daemon only reads {@link Job.outcome}
 * and sets {@link Job.signal} and {@link Job.sandbox}.
 */
import * as args from './args.js';
import { lockSeconds } from './config.js';
import { aboutJob, CrossNamespaceError, InvalidArgumentError, LostLockError, ScriptError } from './errors.js';
import { checkStrings, DataSlot, encodeObject, encodeStrings } from './json.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { CoreArg, CoreCall, CoreOutcome, CoreReply } from './gateway.js';
import type { Queue } from './queue.js';
import type { CompleteResult, Failure, HistoryEntry, JobState, JsonObject, JsonValue, ProgressValue } from './types.js';
import type { JobRecord, PoppedRecord } from './wire.js';

/**
 * What this object's own calls did to the job, once one of them has taken it
 * out of this worker's hands: `completed` (final), `advanced` (completed into
 * a next queue), `failed`, `retried`, `requeued` (moved), `canceled` or
 * `timed-out`.
 */
export type JobOutcome = 'completed' | 'advanced' | 'failed' | 'retried' | 'requeued' | 'canceled' | 'timed-out';

/** Options of {@link Job.complete} when advancing to a next queue. */
export interface CompleteOptions {
  /** Seconds before the job becomes ready in the next queue. */
  delay?: number;
  /** Jids that must complete before the job runs in the next queue. */
  depends?: readonly string[];
}

/** Options of {@link Job.requeue}; omitted ones keep the job's current values. */
export interface RequeueOptions {
  /** Seconds before the job becomes ready in its new queue. */
  delay?: number;
  /** Jids it must wait for (a non-empty list replaces the current dependencies). */
  depends?: readonly string[];
  priority?: number;
  tags?: readonly string[];
  retries?: number;
}

/**
 * A job's fields as plain data. `data` is the job's data object, or, for
 * data another client stored that is not an object, whatever it stored.
 */
export type JobSnapshot = Omit<JobRecord, 'data'> & { data: JsonValue };

// An AbortSignal that never fires, distinct per job so that listeners added
// by one job's code do not pile up on a shared object.
function quietSignal(): AbortSignal {
  return new AbortController().signal;
}

// Keys of the two halves of Job.complete, shared with completeJobs in this
// module and invisible outside it.
const COMPLETE_CALL = Symbol('completeCall');
const COMPLETED = Symbol('completed');

// Jobs whose lock a worker took away from the code holding this object,
// with why (see disownJob).
const disowned = new WeakMap<Job, string>();

/**
 * For a worker daemon: the lock behind `job` is gone (lost, or the job timed
 * out), so this object may no longer complete, fail, retry or heartbeat the
 * job. The core refuses such calls anyway, except when the same worker name
 * holds the job again (it was popped anew by the same process): then they
 * would pass for the new lock. From now on they are refused here, with a
 * {@link LostLockError}, before anything is sent.
 */
export function disownJob(job: Job, why: string): void {
  disowned.set(job, why);
}

function refuseIfDisowned(job: Job, command: string): void {
  const why = disowned.get(job);
  if (why !== undefined) throw new LostLockError(command, `Job ${job.jid} is no longer this worker's (${why})`, { jid: job.jid });
}

/** The most a progress report may hold, as JSON text (the core's limit too). */
export const PROGRESS_MAX_BYTES = 1024;

/** A progress value as the core takes it, or InvalidArgumentError. */
function progressText(value: unknown): string {
  if (typeof value === 'number') {
    if (!(value >= 0 && value <= 100)) throw new InvalidArgumentError(`progress must be a number from 0 to 100 or a JSON object, got ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`progress must be a number from 0 to 100 or a JSON object, got ${Array.isArray(value) ? 'an array' : String(value)}`);
  }
  const text = encodeObject(value, 'progress');
  const bytes = Buffer.byteLength(text);
  if (bytes > PROGRESS_MAX_BYTES) {
    throw new InvalidArgumentError(`progress is ${bytes} bytes as JSON; at most ${PROGRESS_MAX_BYTES} are kept (report counts, not data)`);
  }
  return text;
}

/**
 * A batch sends its calls through one client, in that client's namespace: a
 * job read through a client of another namespace would be looked for (and,
 * should the jid exist there too, acted on) in the wrong one.
 */
function refuseIfForeign(job: Job, client: Client, command: string): void {
  const own = job.client.namespace;
  if (own !== client.namespace) throw new CrossNamespaceError(command, job.jid, own, client.namespace);
}

/**
 * One job: its fields as last read from the core, and the calls that act on
 * it (heartbeat, complete, fail, retry, requeue, cancel, tags, dependencies…).
 */
export class Job {
  /** The job's id. */
  readonly jid: string;
  /** Names the code that runs the job (see the klass rule in the README). */
  klass!: string;
  /** The queue the job is in; `''` once it is complete. */
  queue!: string;
  state!: JobState;
  /** Larger numbers are popped sooner; equal priorities pop first-in first-out. */
  priority!: number;
  tags!: string[];
  /** The worker holding (or last holding) the job's lock; `''` for none. */
  worker!: string;
  /** When the lock expires, in seconds since the epoch; `0` when not running. */
  expires!: number;
  /** Retries allowed each time the job is put. */
  retries!: number;
  /** Retries left before a lost lock or a {@link Job.retry} fails the job. */
  remaining!: number;

  /**
   * Which run of the job this is, from 1: each retry and each lost lock
   * spends one of `retries`, so the runs so far are what was spent plus this one.
   */
  /**
   * The trace context the job was put with (JSON of W3C `traceparent` and
   * friends), when it was put by a traced producer; only a popped job has it.
   * The worker links the job's span to it (see the README on traces).
   */
  traceContext: string | undefined;

  get attempt(): number {
    return Math.max(1, this.retries - this.remaining + 1);
  }
  /**
   * What happened to the job, oldest first. A popped job's history is
   * decoded when first read (see wire.StoredHistory).
   */
  get history(): HistoryEntry[] {
    let history = this.#history;
    if (history instanceof wire.StoredHistory) this.#history = history = history.decode();
    return history;
  }

  set history(entries: HistoryEntry[]) {
    this.#history = entries;
  }
  /** Jids this job waits for. */
  dependencies!: string[];
  /** Jids waiting for this job. */
  dependents!: string[];
  /** Why the job failed, or `null`. Not cleared by a re-put, only by completion. */
  failure!: Failure | null;
  /** Whether the job is tracked (its events are published, see Events). */
  tracked!: boolean;
  /** The recurring job that spawned this one, or `null`. */
  spawnedFromJid!: string | null;
  /** The throttles the job needs, its queue's own last; empty when it names none. */
  throttles!: string[];
  /**
   * The user's data. Change it freely: {@link Job.heartbeat}, {@link Job.complete},
   * {@link Job.fail} and {@link Job.requeue} save it. Reading it throws
   * {@link ForeignDataError} when another client stored data that is not a
   * JSON object (see {@link Job.rawData}); assigning an object replaces it.
   */
  get data(): JsonObject {
    return this.#data.object;
  }

  set data(value: JsonObject) {
    this.#data.object = value;
  }

  /** The data exactly as the core held it when the job was last read (JSON text). */
  get rawData(): string {
    return this.#data.raw;
  }
  /**
   * Aborted when the job should stop (the worker daemon replaces this with a
   * signal it aborts on a lost lock, a cancellation or a shutdown). Job code
   * passes it to fetch() and friends. By default it never aborts.
   */
  get signal(): AbortSignal {
    // Made on first use: most jobs never look at it.
    this.#signal ??= quietSignal();
    return this.#signal;
  }

  set signal(signal: AbortSignal) {
    this.#signal = signal;
  }

  /** A scratch directory the worker daemon gives the job; `undefined` outside a worker. */
  sandbox: string | undefined = undefined;

  readonly #client: Client;
  #signal: AbortSignal | undefined;
  #outcome: JobOutcome | undefined;
  #data!: DataSlot;
  #progress: ProgressValue | null = null;
  #history!: HistoryEntry[] | wire.StoredHistory;

  /** @internal Jobs come from {@link Queue.pop}, {@link Queue.peek} and {@link Jobs.get}. */
  constructor(client: Client, record: JobRecord | PoppedRecord) {
    this.#client = client;
    this.jid = record.jid;
    this.#apply(record);
    if (record.trace !== undefined) this.traceContext = record.trace;
  }

  /** Seconds left on the lock (negative once expired, or when not running). */
  get ttl(): number {
    return this.expires - this.#client.now();
  }

  /**
   * What this object's calls did with the job, once it left this worker's
   * hands; `undefined` while it is still ours to finish.
   */
  get outcome(): JobOutcome | undefined {
    return this.#outcome;
  }

  /** True once {@link Job.outcome} is set: a worker must not complete or fail the job again. */
  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  /** The client this job was read through. */
  get client(): Client {
    return this.#client;
  }

  /** A handle on the job's queue (no I/O). */
  queueHandle(): Queue {
    return this.#client.queue(this.queue);
  }

  /** `<klass jid>`, as other qless clients print jobs. */
  toString(): string {
    return `<${this.klass} ${this.jid}>`;
  }

  /** The job's fields, without the client (what `JSON.stringify(job)` shows). */
  toJSON(): JobSnapshot {
    return {
      jid: this.jid,
      klass: this.klass,
      queue: this.queue,
      state: this.state,
      priority: this.priority,
      tags: this.tags,
      worker: this.worker,
      expires: this.expires,
      retries: this.retries,
      remaining: this.remaining,
      history: this.history,
      dependencies: this.dependencies,
      dependents: this.dependents,
      failure: this.failure,
      tracked: this.tracked,
      spawnedFromJid: this.spawnedFromJid,
      throttles: this.throttles,
      data: this.#data.snapshot,
      progress: this.#progress,
    };
  }

  /** @internal The data as JSON text, refusing anything that is not plain JSON. */
  dataText(): string {
    return this.#data.encode();
  }

  private async call(command: string, ...rest: CoreArg[]): Promise<CoreReply> {
    try {
      return await this.#client.call(command, ...rest);
    } catch (error) {
      throw aboutJob(error, this.jid);
    }
  }

  /**
   * Extend the lock and save `data`. Returns the new expiry (seconds since
   * the epoch, with its fraction). Any refusal by the core means this worker
   * no longer owns the job and is raised as {@link LostLockError}; a
   * ConnectionError says nothing about the lock and is raised as such.
   */
  async heartbeat(): Promise<number> {
    const [outcome] = await heartbeatJobs(this.#client, [this]);
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.expires;
  }

  /**
   * Complete the job, or with `next` advance it to that queue (optionally
   * delayed or waiting for other jobs). Saves `data`. Raises
   * {@link LostLockError} when this worker no longer owns the job.
   */
  async complete(next?: string, options: CompleteOptions = {}): Promise<CompleteResult> {
    const call = this[COMPLETE_CALL](next, options);
    return this[COMPLETED](await this.call('complete', ...call.args), next);
  }

  /** The core call {@link Job.complete} sends (arguments checked, nothing sent yet). */
  [COMPLETE_CALL](next?: string, options: CompleteOptions = {}): CoreCall {
    refuseIfDisowned(this, 'complete');
    const rest: CoreArg[] = [this.jid, this.#client.workerName, this.queue, this.dataText()];
    if (next === undefined) {
      if (options.delay !== undefined || options.depends !== undefined) {
        throw new InvalidArgumentError(`complete of job ${this.jid}: delay and depends need a next queue`);
      }
    } else {
      rest.push('next', args.name(next, 'next queue'));
      rest.push('delay', args.finite(options.delay ?? 0, 'delay'));
      rest.push('depends', encodeStrings(options.depends, 'depends'));
    }
    return { command: 'complete', args: rest };
  }

  /** Apply the core's reply to a completion to this object's fields. */
  [COMPLETED](reply: CoreReply, next?: string): CompleteResult {
    const result = wire.text('complete', reply) as CompleteResult;
    this.#outcome = next === undefined ? 'completed' : 'advanced';
    this.state = result === 'complete' ? 'complete' : result === 'depends' ? 'depends' : result === 'scheduled' ? 'scheduled' : 'waiting';
    this.queue = next ?? '';
    this.worker = '';
    this.expires = 0;
    this.failure = null;
    this.remaining = this.retries;
    return result;
  }

  /**
   * Fail the job into `group` with `message` (a traceback, say). Failed jobs
   * wait for {@link Client.unfail}, a requeue or a cancel. Saves `data`.
   */
  async fail(group: string, message: string): Promise<string> {
    refuseIfDisowned(this, 'fail');
    args.name(group, 'failure group');
    if (typeof message !== 'string') throw new InvalidArgumentError(`fail of job ${this.jid}: message must be a string`);
    const reply = await this.call('fail', this.jid, this.#client.workerName, group, message, this.dataText());
    this.#outcome = 'failed';
    const now = this.#client.now();
    this.state = 'failed';
    this.failure = { group, message, when: Math.floor(now), worker: this.#client.workerName };
    this.worker = '';
    this.expires = 0;
    return wire.text('fail', reply);
  }

  /**
   * Give the job back to its queue (after `delay` seconds) using up one retry.
   * With `group` and `message` the failure is recorded, and used if that
   * was the last retry. Returns the retries left; a negative number means
   * the job has now failed.
   */
  async retry(delay = 0, group?: string, message?: string): Promise<number> {
    refuseIfDisowned(this, 'retry');
    const rest: CoreArg[] = [this.jid, this.queue, this.worker, args.finite(delay, 'delay')];
    if (group !== undefined || message !== undefined) {
      rest.push(args.name(group, 'failure group'), args.name(message, 'failure message'));
    }
    const remaining = wire.integer('retry', await this.call('retry', ...rest));
    this.#outcome = 'retried';
    this.remaining = remaining;
    this.state = remaining < 0 ? 'failed' : delay > 0 ? 'scheduled' : 'waiting';
    return remaining;
  }

  /**
   * Delete the job. A job that others depend on cannot be canceled alone
   * (cancel it together with its dependents through {@link Jobs.cancel}).
   * Returns the canceled jids.
   */
  async cancel(): Promise<string[]> {
    const jids = wire.strings('cancel', await this.call('cancel', this.jid));
    this.#outcome = 'canceled';
    return jids;
  }

  /** Track the job: its events are published (see Events). True if it was not tracked before. */
  async track(): Promise<boolean> {
    const reply = await this.call('track', 'track', this.jid);
    this.tracked = true;
    return String(reply) === '1';
  }

  /** Stop tracking the job. True if it was tracked. */
  async untrack(): Promise<boolean> {
    const reply = await this.call('track', 'untrack', this.jid);
    this.tracked = false;
    return String(reply) === '1';
  }

  /** Add tags; returns the job's tags. */
  async tag(...tags: string[]): Promise<string[]> {
    const list = checkStrings(tags, 'tags');
    this.tags = wire.stringList('tag', wire.json('tag', await this.call('tag', 'add', this.jid, ...list)));
    return this.tags;
  }

  /** Remove tags; returns the job's tags. */
  async untag(...tags: string[]): Promise<string[]> {
    const list = checkStrings(tags, 'tags');
    this.tags = wire.stringList('tag', wire.json('tag', await this.call('tag', 'remove', this.jid, ...list)));
    return this.tags;
  }

  /**
   * Make the job (which must be in the `depends` state) also wait for these
   * jobs. Jobs that do not exist or are complete are ignored.
   */
  async depend(...jids: string[]): Promise<void> {
    const list = checkStrings(jids, 'jids');
    await this.call('depends', this.jid, 'on', ...list);
    for (const jid of list) if (!this.dependencies.includes(jid)) this.dependencies.push(jid);
  }

  /**
   * Stop waiting for these jobs, or for all of them with `{ all: true }`.
   * A job left with no dependencies becomes ready at once.
   */
  async undepend(...jids: string[] | [{ all: true }]): Promise<void> {
    const first = jids[0];
    if (typeof first === 'object' && first !== null) {
      if (first.all !== true) throw new InvalidArgumentError('undepend takes jids or { all: true }');
      await this.call('depends', this.jid, 'off', 'all');
      this.dependencies = [];
    } else {
      const list = checkStrings(jids as string[], 'jids');
      await this.call('depends', this.jid, 'off', ...list);
      this.dependencies = this.dependencies.filter((jid) => !list.includes(jid));
    }
    if (this.dependencies.length === 0 && this.state === 'depends') this.state = 'waiting';
  }

  /** Change the priority (larger pops sooner). */
  async setPriority(priority: number): Promise<void> {
    args.finite(priority, 'priority');
    await this.call('priority', this.jid, priority);
    this.priority = priority;
  }

  /**
   * Move the job to `queue` (the same queue is fine: it starts over there),
   * keeping its priority, tags and retries unless given. Saves `data`. A
   * worker other than this client that holds the job is told it lost it.
   */
  async requeue(queue: string, options: RequeueOptions = {}): Promise<string> {
    const rest: CoreArg[] = [
      this.#client.workerName,
      args.name(queue, 'queue'),
      // A job that already has such a jid (put by an older client) shares
      // keys with another job's; moving it would spread the damage.
      args.jid(this.jid),
      this.klass,
      this.dataText(),
      args.finite(options.delay ?? 0, 'delay'),
    ];
    if (options.priority !== undefined) rest.push('priority', args.finite(options.priority, 'priority'));
    if (options.tags !== undefined) rest.push('tags', encodeStrings(options.tags, 'tags'));
    if (options.retries !== undefined) rest.push('retries', args.integer(options.retries, 'retries'));
    if (options.depends !== undefined) rest.push('depends', encodeStrings(options.depends, 'depends'));
    const jid = wire.text('requeue', await this.call('requeue', ...rest));
    this.#outcome = 'requeued';
    this.queue = queue;
    this.worker = '';
    this.expires = 0;
    this.state = (options.delay ?? 0) > 0 ? 'scheduled' : 'waiting';
    if (options.priority !== undefined) this.priority = options.priority;
    if (options.tags !== undefined) this.tags = [...options.tags];
    if (options.retries !== undefined) this.retries = this.remaining = options.retries;
    return jid;
  }

  /**
   * Take the job away from its worker now, as if its lock had expired: it
   * goes back to the front of its queue and the worker is told.
   */
  async timeout(): Promise<void> {
    await this.call('timeout', this.jid);
    this.#outcome = 'timed-out';
    this.state = 'stalled';
    this.expires = 0;
  }

  /**
   * `job.progress()`: what the job's current run last reported, as last
   * read ({@link Jobs.get}, {@link Job.refresh}) or reported through this
   * object; null when it reported nothing (or its run is over: a job popped
   * again, completed, retried or put shows none; a failed one keeps what
   * its last run reached).
   *
   * `await job.progress(value)`: report how far the running job got, from
   * its code: a number from 0 to 100, or a small JSON object (at most 1024
   * bytes as JSON). The core stores it with the job and announces it on
   * `ql:log` (and on `ql:progress` when the job is tracked). Refused with
   * InvalidArgumentError before anything is sent for any other value, and
   * with LostLockError when this worker no longer holds the job.
   */
  progress(): ProgressValue | null;
  progress(value: ProgressValue): Promise<void>;
  progress(...given: [] | [ProgressValue]): ProgressValue | null | Promise<void> {
    if (given.length === 0) return this.#progress;
    return this.#report(given[0]);
  }

  async #report(value: ProgressValue): Promise<void> {
    const text = progressText(value);
    refuseIfDisowned(this, 'job.progress');
    await this.call('job.progress', this.jid, this.#client.workerName, text);
    this.#progress = JSON.parse(text) as ProgressValue;
  }

  /** Add an entry to the job's history; `data` (a JSON object) is merged into it. */
  async log(message: string, data?: JsonObject): Promise<void> {
    args.name(message, 'log message');
    const rest: CoreArg[] = [this.jid, message];
    if (data !== undefined) rest.push(encodeObject(data, 'log data'));
    await this.call('log', ...rest);
  }

  /**
   * Read the job again and update every field from the core. Returns false
   * (fields unchanged) when the job no longer exists.
   */
  async refresh(): Promise<boolean> {
    const reply = await this.call('get', this.jid);
    if (reply === null) return false;
    this.#apply(wire.jobRecord('get', wire.json('get', reply)));
    return true;
  }

  // Every field but the jid, from what the core said.
  #apply(record: JobRecord | PoppedRecord): void {
    this.klass = record.klass;
    this.queue = record.queue;
    this.state = record.state;
    this.priority = record.priority;
    this.tags = record.tags;
    this.worker = record.worker;
    this.expires = record.expires;
    this.retries = record.retries;
    this.remaining = record.remaining;
    this.#history = record.history;
    this.dependencies = record.dependencies;
    this.dependents = record.dependents;
    this.failure = record.failure;
    this.tracked = record.tracked;
    this.spawnedFromJid = record.spawnedFromJid;
    this.throttles = record.throttles;
    this.#data = new DataSlot(this.jid, record.data);
    this.#progress = record.progress;
  }
}

/** Outcome of one heartbeat in {@link heartbeatJobs}. */
export type HeartbeatOutcome = { job: Job; ok: true; expires: number } | { job: Job; ok: false; error: Error };

/**
 * Heartbeat many jobs in one round trip (a pipeline; each heartbeat is
 * atomic on its own). The core replies with the expiry truncated to whole
 * seconds, so the configuration is read in the same trip and the expiry
 * recomputed exactly as the core did (`now + heartbeat`). Data that is not
 * JSON fails that job only; a core refusal becomes {@link LostLockError}.
 */
export async function heartbeatJobs(client: Client, jobs: readonly Job[]): Promise<HeartbeatOutcome[]> {
  const outcomes: HeartbeatOutcome[] = new Array(jobs.length);
  const calls: CoreCall[] = [];
  const index: number[] = [];
  jobs.forEach((job, i) => {
    try {
      refuseIfForeign(job, client, 'heartbeat');
      refuseIfDisowned(job, 'heartbeat');
      calls.push({ command: 'heartbeat', args: [job.jid, client.workerName, job.dataText()] });
      index.push(i);
    } catch (error) {
      outcomes[i] = { job, ok: false, error: error as Error };
    }
  });
  if (calls.length === 0) return outcomes;
  calls.push({ command: 'config.get', args: [] });
  const now = client.now();
  const results = await client.callMany(calls, now);
  const configResult = results[results.length - 1]!;
  let config: { [key: string]: unknown } | undefined;
  if (configResult.ok) {
    try {
      config = wire.configAll('config.get', configResult.reply);
    } catch {
      config = undefined;
    }
  }
  index.forEach((i, k) => {
    const job = jobs[i]!;
    const result = results[k]!;
    if (!result.ok) {
      const error = result.error;
      outcomes[i] = {
        job,
        ok: false,
        error:
          error instanceof ScriptError
            ? new LostLockError('heartbeat', error.scriptMessage, { cause: error, jid: job.jid })
            : aboutJob(error, job.jid) as Error,
      };
      return;
    }
    const truncated = wire.integer('heartbeat', result.reply);
    const length = config === undefined ? undefined : lockSeconds(config, job.queue);
    // Trust the recomputation only if it agrees with what the core said.
    const exact = length === undefined ? undefined : now + length;
    const expires = exact !== undefined && Math.trunc(exact) === truncated ? exact : truncated + (now - Math.trunc(now));
    job.expires = expires;
    job.worker = client.workerName;
    outcomes[i] = { job, ok: true, expires };
  });
  return outcomes;
}

/** Outcome of one completion in {@link completeJobs}. */
export type CompleteOutcome = { job: Job; ok: true; result: CompleteResult } | { job: Job; ok: false; error: Error };

/** What {@link completeJobs} returns: one outcome per job, then the outcomes of the calls sent after them. */
export interface CompleteBatch {
  completed: CompleteOutcome[];
  after: CoreOutcome[];
}

/**
 * Complete many jobs held by this client in one round trip (a pipeline: each
 * completion is atomic on its own, and each job's object is updated as by
 * {@link Job.complete}), optionally followed in the same trip by further core
 * calls, such as the pop of the next jobs. A job whose data cannot be sent
 * fails alone; a core refusal is a {@link LostLockError} (or another typed
 * error) in that job's outcome, never thrown.
 */
export function completeJobs(client: Client, jobs: readonly Job[], after: readonly CoreCall[] = []): Promise<CompleteBatch> {
  return completeJobsThen(client, jobs, after, sameBatch);
}

function sameBatch(batch: CompleteBatch): CompleteBatch {
  return batch;
}

/**
 * @internal {@link completeJobs} with its batch read by `read` in the same
 * step as the reply (as `completeJobs(…).then(read)`, one promise less).
 */
export function completeJobsThen<T>(client: Client, jobs: readonly Job[], after: readonly CoreCall[], read: (batch: CompleteBatch) => T): Promise<T> {
  try {
    return sendCompletions(client, jobs, after, read);
  } catch (error) {
    // As from an async function: whatever goes wrong (jobs that are not a list…) rejects.
    return Promise.reject(error as Error);
  }
}

function sendCompletions<T>(client: Client, jobs: readonly Job[], after: readonly CoreCall[], read: (batch: CompleteBatch) => T): Promise<T> {
  const completed: CompleteOutcome[] = new Array(jobs.length);
  const calls: CoreCall[] = [];
  const index: number[] = [];
  jobs.forEach((job, i) => {
    try {
      refuseIfForeign(job, client, 'complete');
      calls.push(job[COMPLETE_CALL]());
      index.push(i);
    } catch (error) {
      completed[i] = { job, ok: false, error: error as Error };
    }
  });
  if (calls.length + after.length === 0) return Promise.resolve({ completed, after: [] }).then(read);
  const all = after.length === 0 ? calls : calls.length === 0 ? after : calls.concat(after);
  // Read in the gateway's own step rather than in an async function: nothing between the reply and the caller.
  return client.callManyAndRead(all, (results) =>
    read({
      completed: completedFrom(jobs, completed, index, results),
      after: results.slice(calls.length),
    }),
  );
}

/** Fill in the completions sent (`index`: which job each sent call was) from their results. */
function completedFrom(jobs: readonly Job[], completed: CompleteOutcome[], index: readonly number[], results: readonly CoreOutcome[]): CompleteOutcome[] {
  index.forEach((i, k) => {
    const job = jobs[i]!;
    const result = results[k]!;
    if (!result.ok) {
      completed[i] = { job, ok: false, error: aboutJob(result.error, job.jid) as Error };
      return;
    }
    try {
      completed[i] = { job, ok: true, result: job[COMPLETED](result.reply) };
    } catch (error) {
      completed[i] = { job, ok: false, error: error as Error };
    }
  });
  return completed;
}

/** Build a Job from a decoded job object. */
export function jobFromValue(client: Client, command: string, value: unknown): Job {
  return new Job(client, wire.jobRecord(command, value));
}
