/**
 * Running one job inside a child: sandbox, dispatch, and what the worker
 * does with the outcome.
 *
 * | the job's method …                                | the worker                                        |
 * |---------------------------------------------------|---------------------------------------------------|
 * | completed, failed, retried or moved the job itself | nothing more (`job.settled`)                      |
 * | returned without doing so                          | completes it                                      |
 * | threw                                              | fails it: group `<queue>-<ErrorName>`, the stack as message |
 * | threw because it could not reach Redis             | gives it back to its queue (`retry`)              |
 * | cannot be found (module, export, method)           | fails it: `<queue>-import-error`, `-method-missing`, `-method-type` |
 * | was aborted (lock lost, canceled, timed out)       | nothing: the job is not this worker's any more    |
 *
 * Completing or failing waits for Redis when it is away: the result is kept
 * and sent once Redis is back, unless the lock is known lost meanwhile.
 */
import { ConnectionError, JobNotFoundError, LostLockError, QlessError, ScriptError } from '../errors.js';
import type { Job } from '../job.js';
import { JobAbortedError } from './abort.js';
import type { Loader } from './loader.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { AbortKind } from './protocol.js';
import type { Sandbox } from './sandbox.js';

/** One run of a job in this child. */
export class Run {
  readonly id: number;
  readonly job: Job;
  /** The worker name holding the job's lock. */
  readonly worker: string;
  readonly startedAt = Date.now();
  readonly #controller = new AbortController();
  #kind: AbortKind | undefined;
  /** The job kept running past the abort grace; the child is being replaced. */
  abandoned = false;
  finished = false;

  constructor(id: number, job: Job, worker: string) {
    this.id = id;
    this.job = job;
    this.worker = worker;
    job.signal = this.#controller.signal;
  }

  /** Why the run was aborted, if it was. */
  get aborted(): AbortKind | undefined {
    return this.#kind;
  }

  /** Fire the job's AbortSignal. False if it was already aborted or the job is done. */
  abort(kind: AbortKind, reason: string): boolean {
    if (this.#kind !== undefined || this.finished) return false;
    this.#kind = kind;
    this.#controller.abort(new JobAbortedError(this.job.jid, kind, reason));
    return true;
  }
}

/** What a run ended with, for the log and the child's bookkeeping. */
export type RunOutcome = 'completed' | 'failed' | 'settled' | 'retried' | 'lost' | 'aborted';

export interface RunnerDeps {
  loader: Loader;
  sandbox: Sandbox;
  log: Logger;
  /** The child's working directory, restored after each job. */
  cwd: string;
  /** True once the child must stop at once (no more waiting for Redis). */
  stoppingNow: () => boolean;
}

/** `<ErrorName>` of a failure group: the error's name, or its class when the name is the generic one. */
export function errorName(error: unknown): string {
  if (error instanceof Error) {
    const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (error.name && error.name !== 'Error') return error.name;
    return typeof ctor === 'string' && ctor !== '' ? ctor : 'Error';
  }
  return 'Error';
}

/** A failure message: the stack, and the stacks of its causes. */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) {
    try {
      return typeof error === 'string' ? error : `${JSON.stringify(error)} (thrown value that is not an Error)`;
    } catch {
      return String(error);
    }
  }
  let text = error.stack ?? `${error.name}: ${error.message}`;
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    text += `\nCaused by: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Send the worker's verdict (complete/fail/retry), waiting out a Redis
 * outage. Returns false when the job turned out not to be ours any more.
 */
async function settle(run: Run, deps: RunnerDeps, log: Logger, what: string, call: () => Promise<unknown>): Promise<boolean> {
  let delay = 200;
  for (;;) {
    try {
      await call();
      return true;
    } catch (error) {
      if (error instanceof ConnectionError && run.aborted === undefined && !deps.stoppingNow()) {
        log.debug({ error: error.message }, `could not ${what} the job yet (Redis unavailable); retrying`);
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
      if (error instanceof ScriptError) {
        log.warn({ error: error.message }, `could not ${what} the job: it is no longer this worker's`);
        return false;
      }
      log.error({ ...errorFields(error) }, `could not ${what} the job`);
      return false;
    }
  }
}

/** Whether an error says this very job is no longer this worker's. */
function lostThisJob(error: unknown, jid: string): boolean {
  return (error instanceof LostLockError || error instanceof JobNotFoundError) && error.jid === jid;
}

/** Run one job to the end. Never throws. */
export async function runJob(run: Run, deps: RunnerDeps): Promise<RunOutcome> {
  const { job } = run;
  const log = deps.log.child({ jid: job.jid, klass: job.klass, queue: job.queue });
  let slot: { slot: number; dir: string } | undefined;
  try {
    try {
      slot = await deps.sandbox.acquire();
    } catch (error) {
      log.error({ ...errorFields(error) }, 'could not prepare the sandbox');
      const ok = await settle(run, deps, log, 'fail', () => job.fail(`${job.queue}-sandbox-error`, `The worker could not prepare the job's sandbox:\n${errorText(error)}`));
      return ok ? 'failed' : 'lost';
    }
    job.sandbox = slot.dir;
    log.debug({ sandbox: slot.dir, worker: run.worker }, 'job started');

    const code = await deps.loader.resolve(job);
    if (!code.ok) {
      log.warn({ group: code.group, message: code.message }, 'job failed: no code to run it');
      const ok = await settle(run, deps, log, 'fail', () => job.fail(code.group, code.message));
      return ok ? 'failed' : 'lost';
    }

    let threw = false;
    let thrown: unknown;
    try {
      await code.method.call(code.target, job as never);
    } catch (error) {
      threw = true;
      thrown = error;
    }
    const ms = Date.now() - run.startedAt;

    if (job.settled) {
      log.info({ ms, outcome: job.outcome }, `job ${job.outcome}`);
      return 'settled';
    }
    if (run.aborted !== undefined) {
      const how = threw ? (thrown instanceof JobAbortedError || (thrown instanceof Error && thrown.name === 'AbortError') ? 'stopped' : 'threw') : 'returned';
      log.info({ ms, kind: run.aborted }, `job ${how} after being aborted (${run.aborted}); it is not this worker's any more`);
      return 'aborted';
    }
    if (!threw) {
      const ok = await settle(run, deps, log, 'complete', () => job.complete());
      if (ok) log.info({ ms }, 'job completed');
      return ok ? 'completed' : 'lost';
    }
    if (lostThisJob(thrown, job.jid)) {
      log.warn({ ms, error: (thrown as Error).message }, 'job lost its lock while running');
      return 'lost';
    }
    if (thrown instanceof ConnectionError || (thrown instanceof QlessError && thrown.code === 'CONNECTION')) {
      log.warn({ ms, error: (thrown as Error).message }, 'job could not reach Redis; giving it back to its queue');
      const ok = await settle(run, deps, log, 'retry', () => job.retry(0, `${job.queue}-ConnectionError`, errorText(thrown)));
      return ok ? 'retried' : 'lost';
    }
    const group = `${job.queue}-${errorName(thrown)}`;
    log.warn({ ms, group, ...errorFields(thrown) }, 'job failed');
    const ok = await settle(run, deps, log, 'fail', () => job.fail(group, errorText(thrown)));
    return ok ? 'failed' : 'lost';
  } finally {
    run.finished = true;
    if (slot) {
      try {
        await deps.sandbox.release(slot);
      } catch (error) {
        log.warn({ ...errorFields(error) }, 'could not empty the sandbox');
      }
    }
    // A job may have changed directory; the next one starts in the sandbox.
    try {
      if (process.cwd() !== deps.cwd) process.chdir(deps.cwd);
    } catch {
      // The sandbox itself is recreated before the next job.
    }
  }
}
