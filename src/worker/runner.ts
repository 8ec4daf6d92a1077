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
 * A run has two phases. First the job's code runs in its sandbox; once it
 * is over the sandbox is emptied and the slot handed back (`slotFree`), so
 * that the child can pop the next job while this one's verdict is on its
 * way. Then the verdict is sent: a completion goes through the child
 * (`complete`), which sends it together with its next pop in one round
 * trip; failures and retries are sent on their own.
 *
 * Sending a verdict waits for Redis when it is away: the result is kept
 * and sent once Redis is back, unless the lock is known lost meanwhile.
 */
import { ConnectionError, JobNotFoundError, LostLockError, QlessError, ScriptError } from '../errors.js';
import type { Job } from '../job.js';
import { JobAbortedError } from './abort.js';
import type { Loader } from './loader.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { AbortKind } from './protocol.js';
import { ownTime } from './own-time.js';
import { isTransient } from './lock.js';
import type { Sandbox } from './sandbox.js';

/** One run of a job in this child. */
export class Run {
  readonly id: number;
  readonly job: Job;
  /** The worker name holding the job's lock. */
  readonly worker: string;
  /** When it was popped (ms since the epoch). */
  readonly claimedAt = Date.now();
  /** When its code was started (the pop time until then). */
  startedAt = this.claimedAt;
  /** Popped ahead of the free slots: it waited for one. */
  heldAhead = false;
  /** Confirm the lock before the code starts (see RunnerDeps.confirm). */
  confirmFirst = false;
  /** Its code has been started (a job popped ahead waits until a slot frees up). */
  started = false;
  /** `performance.now()` at the start, to time short jobs finely. */
  startedTick = 0;
  /**
   * While the job's own code runs (loading its module included, the sandbox
   * not): when it began, in the process's own time (src/worker/own-time.ts).
   * Undefined before and after.
   */
  codeSince: number | undefined;
  /** How the run ended, once it did. */
  outcome: RunOutcome | undefined;
  readonly #controller = new AbortController();
  #kind: AbortKind | undefined;
  /** The job kept running past the abort grace; the child is being replaced. */
  abandoned = false;
  /** The job's code is over and its sandbox slot given back. */
  slotFreed = false;
  /** The supervisor was told the run is over. */
  released = false;
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
  /** The job's code is over and its sandbox emptied: the slot may take another job. */
  slotFree: (run: Run) => void;
  /**
   * Complete the job (the child sends it with its next pop). Rejects as
   * `job.complete()` would: ConnectionError, or a typed refusal of the core.
   */
  complete: (run: Run) => Promise<void>;
  /**
   * Before the job's code starts: undefined to go ahead, or a check that
   * resolves false when the job turned out not to be this worker's any more
   * (then nothing runs and nothing is sent).
   */
  confirm: (run: Run) => Promise<boolean> | undefined;
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
 * A logger with the job's fields, made only when a line is written: most
 * runs log nothing at the default level, and a pino child logger costs more
 * than the rest of a no-op job's bookkeeping.
 */
class JobLog {
  readonly #parent: Logger;
  readonly #job: Job;
  #log: Logger | undefined;

  constructor(parent: Logger, job: Job) {
    this.#parent = parent;
    this.#job = job;
  }

  get log(): Logger {
    this.#log ??= this.#parent.child({ jid: this.#job.jid, klass: this.#job.klass, queue: this.#job.queue });
    return this.#log;
  }

  get debugging(): boolean {
    return this.#parent.isLevelEnabled('debug');
  }
}

/**
 * Send the worker's verdict (complete/fail/retry), waiting out a Redis
 * outage. Returns false when the job turned out not to be ours any more.
 * `call` is invoked synchronously the first time (see runJob).
 */
async function settle(run: Run, deps: RunnerDeps, jl: JobLog, what: string, call: () => Promise<unknown>): Promise<boolean> {
  let delay = 200;
  for (;;) {
    try {
      await call();
      return true;
    } catch (error) {
      if (isTransient(error) && run.aborted === undefined && !deps.stoppingNow()) {
        if (jl.debugging) jl.log.debug({ error: (error as Error).message }, `could not ${what} the job yet (Redis unavailable or refusing writes for now); retrying`);
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
      if (error instanceof ScriptError) {
        jl.log.warn({ error: error.message }, `could not ${what} the job: it is no longer this worker's`);
        return false;
      }
      jl.log.error({ ...errorFields(error) }, `could not ${what} the job`);
      return false;
    }
  }
}

/** Whether an error says this very job is no longer this worker's. */
function lostThisJob(error: unknown, jid: string): boolean {
  return (error instanceof LostLockError || error instanceof JobNotFoundError) && error.jid === jid;
}

/** What to do once the job's code is over. */
type Verdict =
  | { kind: 'complete'; ms: number }
  | { kind: 'fail'; group: string; message: string }
  | { kind: 'retry'; group: string; message: string }
  | { kind: 'none'; outcome: RunOutcome };

/** Run the job's code in its sandbox; the sandbox is emptied again before this returns. */
async function execute(run: Run, deps: RunnerDeps, jl: JobLog): Promise<Verdict> {
  const { job } = run;
  let slot: { slot: number; dir: string } | undefined;
  try {
    try {
      slot = await deps.sandbox.acquire();
    } catch (error) {
      jl.log.error({ ...errorFields(error) }, 'could not prepare the sandbox');
      return { kind: 'fail', group: `${job.queue}-sandbox-error`, message: `The worker could not prepare the job's sandbox:\n${errorText(error)}` };
    }
    job.sandbox = slot.dir;
    if (jl.debugging) jl.log.debug({ sandbox: slot.dir, worker: run.worker }, 'job started');

    let threw = false;
    let thrown: unknown;
    run.codeSince = ownTime.now();
    try {
      const code = await deps.loader.resolve(job);
      if (!code.ok) {
        jl.log.warn({ group: code.group, message: code.message }, 'job failed: no code to run it');
        return { kind: 'fail', group: code.group, message: code.message };
      }
      try {
        await code.method.call(code.target, job as never);
      } catch (error) {
        threw = true;
        thrown = error;
      }
    } finally {
      run.codeSince = undefined;
    }
    const ms = Date.now() - run.startedAt;

    if (job.settled) {
      // A job that finished itself: a success is detail (debug), anything else is news.
      const success = job.outcome === 'completed' || job.outcome === 'advanced';
      if (!success) jl.log.info({ ms, outcome: job.outcome }, `job ${job.outcome}`);
      else if (jl.debugging) jl.log.debug({ ms, outcome: job.outcome }, `job ${job.outcome}`);
      return { kind: 'none', outcome: 'settled' };
    }
    if (run.aborted !== undefined) {
      const how = threw ? (thrown instanceof JobAbortedError || (thrown instanceof Error && thrown.name === 'AbortError') ? 'stopped' : 'threw') : 'returned';
      jl.log.info({ ms, kind: run.aborted }, `job ${how} after being aborted (${run.aborted}); it is not this worker's any more`);
      return { kind: 'none', outcome: 'aborted' };
    }
    if (!threw) return { kind: 'complete', ms };
    if (lostThisJob(thrown, job.jid)) {
      jl.log.warn({ ms, error: (thrown as Error).message }, 'job lost its lock while running');
      return { kind: 'none', outcome: 'lost' };
    }
    if (thrown instanceof ConnectionError || (thrown instanceof QlessError && thrown.code === 'CONNECTION')) {
      jl.log.warn({ ms, error: (thrown as Error).message }, 'job could not reach Redis; giving it back to its queue');
      return { kind: 'retry', group: `${job.queue}-ConnectionError`, message: errorText(thrown) };
    }
    if (isTransient(thrown)) {
      jl.log.warn({ ms, error: (thrown as Error).message }, 'Redis refused a call of the job for now; giving it back to its queue');
      return { kind: 'retry', group: `${job.queue}-${errorName(thrown)}`, message: errorText(thrown) };
    }
    const group = `${job.queue}-${errorName(thrown)}`;
    jl.log.warn({ ms, group, ...errorFields(thrown) }, 'job failed');
    return { kind: 'fail', group, message: errorText(thrown) };
  } finally {
    if (slot) {
      try {
        await deps.sandbox.release(slot);
      } catch (error) {
        jl.log.warn({ ...errorFields(error) }, 'could not empty the sandbox');
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

/** Run one job to the end. Never throws. */
export async function runJob(run: Run, deps: RunnerDeps): Promise<RunOutcome> {
  const outcome = await runToVerdict(run, deps);
  run.outcome = outcome;
  return outcome;
}

async function runToVerdict(run: Run, deps: RunnerDeps): Promise<RunOutcome> {
  const { job } = run;
  const jl = new JobLog(deps.log, job);
  let verdict: Verdict;
  try {
    const confirming = deps.confirm(run);
    verdict = confirming && !(await confirming) ? { kind: 'none', outcome: 'lost' } : await execute(run, deps, jl);
  } catch (error) {
    jl.log.error({ ...errorFields(error) }, 'job runner failed');
    verdict = { kind: 'none', outcome: 'lost' };
  }
  // The slot is free and, for a completion, the verdict queued in the same
  // synchronous step (settle calls `complete` before its first await): the
  // child's loop, woken by `slotFree`, then finds the completion waiting and
  // sends it with its next pop instead of making a round trip of its own.
  deps.slotFree(run);
  try {
    switch (verdict.kind) {
      case 'none':
        return verdict.outcome;
      case 'complete': {
        const ok = await settle(run, deps, jl, 'complete', () => deps.complete(run));
        if (ok && jl.debugging) jl.log.debug({ ms: verdict.ms }, 'job completed');
        return ok ? 'completed' : 'lost';
      }
      case 'retry': {
        const ok = await settle(run, deps, jl, 'retry', () => job.retry(0, verdict.group, verdict.message));
        return ok ? 'retried' : 'lost';
      }
      case 'fail': {
        const ok = await settle(run, deps, jl, 'fail', () => job.fail(verdict.group, verdict.message));
        return ok ? 'failed' : 'lost';
      }
    }
  } finally {
    run.finished = true;
  }
}
