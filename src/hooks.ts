/**
 * Lifecycle hooks: the worker's extension surface.
 *
 * Code loaded into a worker (an `--import` module, or a job module) uses
 * {@link hooks} to
 * - wrap every job run in middleware (`hooks.around((job, next) => …)`):
 *   time it, run it inside a DB transaction or an error reporter's scope,
 *   or decide its outcome (swallow an error and the job completes; throw
 *   and it fails; or complete, fail or retry the job yourself);
 * - listen to what happened to a job (`hooks.on('job:fail', …)`), with a
 *   typed payload per event.
 *
 * Both run in the child that runs the job. Listeners registered in the
 * supervisor (an `--import` module is loaded there too) hear every child's
 * events over IPC: there `job` is a plain summary of the job and `error` an
 * Error rebuilt from the child's (name, message and stack).
 *
 * The registry lives on `globalThis` under a registered symbol, so that a
 * job module that resolves its own copy of qless-ts still registers where
 * the worker looks. A worker without hooks pays one length check per job.
 */

import { InvalidArgumentError, QlessError } from './errors.js';

/** What every event tells about its job (in a child, `job` is the {@link Job} itself). */
export interface JobInfo {
  readonly jid: string;
  readonly klass: string;
  readonly queue: string;
  /** The worker name holding the job's lock. */
  readonly worker: string;
  /** Which run of the job this is, from 1. */
  readonly attempt: number;
  /** Retries allowed each time the job is put, and how many are left. */
  readonly retries: number;
  readonly remaining: number;
}

/** How a run ended, as logs, hooks and metrics name it. */
export type RunOutcomeName = 'complete' | 'fail' | 'retry' | 'lost' | 'timeout' | 'canceled';

interface Finished {
  job: JobInfo;
  /** The queue the job ran from (a completed job's `queue` is `''`, as the core has it). */
  queue: string;
  /** Which run of the job this was, from 1 (on `job:retry`, `job.attempt` has already moved on to the next). */
  attempt: number;
  /** How long the job's code ran (ms). */
  durationMs: number;
}

/** The events and their payloads. */
export interface JobEventMap {
  'job:start': { job: JobInfo };
  'job:complete': Finished;
  /** `group` is the failure group (`<queue>-<ErrorName>` for a throw). */
  'job:fail': Finished & { group: string; error: Error };
  /** Given back to its queue for another attempt in `delay` seconds. */
  'job:retry': Finished & { group: string; delay: number; error: Error };
  /** The job was no longer this worker's (lock lost, handed out again, worker stopping now). */
  'job:lost': Finished & { reason: string };
  /** It ran longer than the worker's `--timeout` and was failed and stopped. */
  'job:timeout': Finished;
  'job:canceled': Finished;
}

export type JobEventName = keyof JobEventMap;
export type JobListener<E extends JobEventName> = (payload: JobEventMap[E]) => void | Promise<void>;

/**
 * Middleware around a job run. Call `next()` once to run the job's code (or
 * the next middleware); what `next()` throws is what the job threw.
 */
export type AroundJob<J = import('./job.js').Job> = (job: J, next: () => Promise<void>) => Promise<void>;

/** Every event name, for checks and for the IPC relay. */
export const JOB_EVENTS: readonly JobEventName[] = ['job:start', 'job:complete', 'job:fail', 'job:retry', 'job:lost', 'job:timeout', 'job:canceled'];

/** The registry of middleware and listeners of this process. */
export class Hooks {
  readonly #around: AroundJob[] = [];
  readonly #listeners = new Map<JobEventName, Set<JobListener<JobEventName>>>();

  /** Add middleware; the first added is the outermost. Returns a function that removes it. */
  around(middleware: AroundJob): () => void {
    if (typeof middleware !== 'function') throw new InvalidArgumentError('hooks.around needs a function (job, next) => Promise<void>');
    this.#around.push(middleware);
    return () => {
      const at = this.#around.indexOf(middleware);
      if (at >= 0) this.#around.splice(at, 1);
    };
  }

  /** Listen to an event. Returns a function that removes the listener. */
  on<E extends JobEventName>(event: E, listener: JobListener<E>): () => void {
    if (!JOB_EVENTS.includes(event)) throw new InvalidArgumentError(`hooks.on: unknown event "${String(event)}" (known: ${JOB_EVENTS.join(', ')})`);
    if (typeof listener !== 'function') throw new InvalidArgumentError(`hooks.on('${event}') needs a function`);
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as JobListener<JobEventName>);
    return () => this.off(event, listener);
  }

  off<E extends JobEventName>(event: E, listener: JobListener<E>): void {
    this.#listeners.get(event)?.delete(listener as JobListener<JobEventName>);
  }

  /** Whether anything listens (to `event`, or to any event). */
  listening(event?: JobEventName): boolean {
    if (event !== undefined) return (this.#listeners.get(event)?.size ?? 0) > 0;
    for (const set of this.#listeners.values()) if (set.size > 0) return true;
    return false;
  }

  /** Whether any middleware is registered. */
  get wrapping(): boolean {
    return this.#around.length > 0;
  }

  /** Remove every middleware and listener (tests). */
  clear(): void {
    this.#around.length = 0;
    this.#listeners.clear();
  }

  /**
   * Call the listeners of `event`. A listener that throws (or rejects) does
   * not stop the others, nor the worker: `onError` hears about it.
   */
  emit<E extends JobEventName>(event: E, payload: JobEventMap[E], onError: (error: unknown, event: E) => void): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        const result = listener(payload);
        if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).then(undefined, (error: unknown) => onError(error, event));
      } catch (error) {
        onError(error, event);
      }
    }
  }

  /** Run `code` inside the middleware, outermost first. */
  run<J>(job: J, code: () => Promise<void>): Promise<void> {
    if (this.#around.length === 0) return code();
    const chain = [...this.#around] as unknown as AroundJob<J>[];
    const step = (i: number): Promise<void> => {
      if (i === chain.length) return code();
      let called = false;
      return chain[i]!(job, () => {
        if (called) return Promise.reject(new QlessError('a hooks.around middleware called next() twice; the job runs once'));
        called = true;
        return step(i + 1);
      });
    };
    return step(0);
  }
}

const REGISTRY = Symbol.for('qless-ts.hooks');
const holder = globalThis as { [REGISTRY]?: Hooks };

/** The process's hooks (one per process, shared by every copy of qless-ts loaded in it). */
export const hooks: Hooks = (holder[REGISTRY] ??= new Hooks());
