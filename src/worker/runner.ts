/**
 * Running one job inside a child: sandbox, dispatch, and what the worker
 * does with the outcome.
 *
 * | the job's method …                                | the worker                                        |
 * |---------------------------------------------------|---------------------------------------------------|
 * | completed, failed, retried or moved the job itself | nothing more (`job.settled`)                      |
 * | returned without doing so                          | completes it                                      |
 * | threw                                              | fails it: group `<queue>-<ErrorName>`, the stack as message |
 * | threw, with a retry policy and retries left        | retries it after the policy's delay, same group (src/worker/retry.ts) |
 * | threw an UnrecoverableError                        | fails it, whatever the policy                     |
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
 *
 * Once the verdict is in, the run is reported: one `info` line
 * (`job completed`, `job failed`, `job retried`, `job lost`, `job timed
 * out`, `job canceled`) with its outcome, duration and attempt, and the
 * matching job event (src/hooks.ts, src/worker/job-events.ts). The job's
 * code runs inside the hooks' middleware, with its output captured
 * (src/worker/output.ts) and, when OpenTelemetry is there, in a span
 * (src/worker/tracing.ts).
 */
import { ConnectionError, JobNotFoundError, LostLockError, QlessError, ScriptError } from '../errors.js';
import { hooks, type RunOutcomeName } from '../hooks.js';
import type { Job } from '../job.js';
import type { JobEvents } from './job-events.js';
import { JobAbortedError } from './abort.js';
import type { Loader } from './loader.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { AbortKind } from './protocol.js';
import { ownTime } from './own-time.js';
import { isTransient } from './lock.js';
import { OutputCapture, type OutputSink } from './output.js';
import { classPolicy, decide, type RetryPolicy } from './retry.js';
import type { Sandbox } from './sandbox.js';
import type { JobSpan, Tracing } from './tracing.js';
import { stageMark } from '../stage-marks.js';

/** A controller made ahead of the next run (see prepareRun). */
let spareController: AbortController | undefined;

/**
 * Make what the next run needs before its job is known (an idle child, its
 * pop on the way): its AbortController. Nothing about a job is in it.
 */
export function prepareRun(): void {
  spareController ??= new AbortController();
}

function takeAbortController(): AbortController {
  const controller = spareController ?? new AbortController();
  spareController = undefined;
  return controller;
}

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
  readonly #controller = takeAbortController();
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

/** A finished run as logs, hooks and metrics see it. */
export interface RunReport {
  outcome: RunOutcomeName;
  /** How long the job's code ran (ms). */
  durationMs: number;
  group?: string;
  /** Seconds until the retry. */
  delay?: number;
  error?: Error;
  /** Why the job was lost. */
  reason?: string;
  /** Which run of the job it was (a retry spends one of `remaining`, so `job.attempt` has moved on). */
  attempt?: number;
}

/** The log message of each outcome. */
const FINISHED: Record<RunOutcomeName, string> = {
  complete: 'job completed',
  fail: 'job failed',
  retry: 'job retried',
  lost: 'job lost',
  timeout: 'job timed out',
  canceled: 'job canceled',
};

export interface RunnerDeps {
  loader: Loader;
  sandbox: Sandbox;
  log: Logger;
  /** The child's worker name (already on its log lines). */
  name: string;
  /** The worker's `--retry-backoff` policy, for classes without their own. */
  retry: RetryPolicy | undefined;
  /** Job events for hooks and the supervisor. */
  events: JobEvents;
  /** The job's output, as log lines tagged with its jid. */
  output: OutputCapture;
  /** OpenTelemetry spans, when the application has @opentelemetry/api. */
  tracing: Tracing | undefined;
  /** A job was retried with this delay (seconds): the child looks for it again then. */
  retried: (delay: number) => void;
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
  /** The queue it ran from (a completion empties `job.queue`). */
  readonly queue: string;
  #log: Logger | undefined;

  constructor(parent: Logger, job: Job) {
    this.#parent = parent;
    this.#job = job;
    this.queue = job.queue;
  }

  get log(): Logger {
    this.#log ??= this.#parent.child({ jid: this.#job.jid, klass: this.#job.klass, queue: this.queue });
    return this.#log;
  }

  get debugging(): boolean {
    return this.#parent.isLevelEnabled('debug');
  }

  /** Where the job's own output goes: lines of this logger. */
  get sink(): OutputSink {
    return OutputCapture.sink(() => this.log);
  }

  /**
   * The fields an info line starts with: the job's own when no job logger
   * exists yet (it would carry them). The line per finished job is most
   * jobs' only line: made from the process's logger, with one object of
   * fields, it costs less than a child logger would.
   */
  fields(): Record<string, unknown> {
    return this.#log ? {} : { jid: this.#job.jid, klass: this.#job.klass, queue: this.queue };
  }

  /** An info line; `fields` start with {@link fields}. */
  info(fields: Record<string, unknown>, message: string): void {
    (this.#log ?? this.#parent).info(fields, message);
  }
}

/**
 * An Error made by the worker to describe a failure that was not a throw
 * (or a throw of something else than an Error): its stack is the message,
 * not the worker's own frames.
 */
function described(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  error.stack = `${name}: ${message}`;
  return error;
}

/** A thrown value as an Error (listeners and spans want one). */
function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : described('NonErrorThrown', errorText(thrown));
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
  | { kind: 'fail'; group: string; message: string; ms: number; error: Error }
  | { kind: 'retry'; group: string; message: string; ms: number; error: Error; delay: number }
  | { kind: 'none'; outcome: RunOutcome; report: RunReport };

/** The report of a job that completed, failed, retried or moved itself (job.outcome). */
function settledReport(job: Job, ms: number): RunReport {
  switch (job.outcome) {
    case 'failed':
      return { outcome: 'fail', durationMs: ms, group: job.failure?.group ?? `${job.queue}-failed`, error: described('JobFailed', job.failure?.message ?? 'the job failed itself') };
    case 'retried':
    case 'requeued':
      return { outcome: 'retry', durationMs: ms, group: job.failure?.group ?? '', delay: 0, error: described('JobRetried', job.failure?.message ?? 'the job gave itself back to its queue') };
    case 'canceled':
      return { outcome: 'canceled', durationMs: ms };
    case 'timed-out':
      return { outcome: 'timeout', durationMs: ms };
    default:
      return { outcome: 'complete', durationMs: ms };
  }
}

/** The report of a run that was aborted (the job is not this worker's any more). */
function abortedReport(run: Run, ms: number): RunReport {
  switch (run.aborted) {
    case 'timeout':
      return { outcome: 'timeout', durationMs: ms };
    case 'canceled':
      return { outcome: 'canceled', durationMs: ms };
    case 'shutdown':
      return { outcome: 'lost', durationMs: ms, reason: 'the worker stopped at once' };
    default:
      return { outcome: 'lost', durationMs: ms, reason: 'its lock was lost (moved, timed out or handed to another worker)' };
  }
}

/** Run the job's code in its sandbox; the sandbox is emptied again before this returns. */
async function execute(run: Run, deps: RunnerDeps, jl: JobLog, span: JobSpan | undefined): Promise<Verdict> {
  const { job } = run;
  let slot: { slot: number; dir: string } | undefined;
  const failed = (group: string, message: string): Verdict => ({ kind: 'fail', group, message, ms: 0, error: described(group.slice(job.queue.length + 1), message) });
  try {
    try {
      slot = deps.sandbox.acquireNow() ?? (await deps.sandbox.acquire());
      stageMark('sandbox acquired');
    } catch (error) {
      jl.log.error({ ...errorFields(error) }, 'could not prepare the sandbox');
      return failed(`${job.queue}-sandbox-error`, `The worker could not prepare the job's sandbox:\n${errorText(error)}`);
    }
    job.sandbox = slot.dir;
    // The child's own name is on every line already; a resumed job's holder is another.
    if (jl.debugging) jl.log.debug({ sandbox: slot.dir, attempt: job.attempt, ...(run.worker !== deps.name ? { holder: run.worker } : {}) }, 'job started');

    let threw = false;
    let thrown: unknown;
    let policy: RetryPolicy | undefined;
    run.codeSince = ownTime.now();
    const sink = jl.sink;
    try {
      const code = deps.loader.resolveNow(job) ?? (await deps.loader.resolve(job));
      stageMark('code resolved');
      if (!code.ok) {
        jl.log.debug({ group: code.group, message: code.message }, 'no code to run the job');
        return failed(code.group, code.message);
      }
      policy = classPolicy(code.target) ?? deps.retry;
      deps.events.emit('job:start', { job });
      const call = (): Promise<void> => hooks.run(job, async () => {
        stageMark('method called');
        await code.method.call(code.target, job as never);
      });
      try {
        await deps.output.run(sink, span ? () => span.run(call) : call);
      } catch (error) {
        threw = true;
        thrown = error;
      }
    } finally {
      run.codeSince = undefined;
      deps.output.flush(sink);
    }
    const ms = performance.now() - run.startedTick;

    if (job.settled) return { kind: 'none', outcome: 'settled', report: settledReport(job, ms) };
    if (run.aborted !== undefined) {
      const how = threw ? (thrown instanceof JobAbortedError || (thrown instanceof Error && thrown.name === 'AbortError') ? 'stopped' : 'threw') : 'returned';
      if (jl.debugging) jl.log.debug({ kind: run.aborted }, `job ${how} after being aborted (${run.aborted}); it is not this worker's any more`);
      return { kind: 'none', outcome: 'aborted', report: abortedReport(run, ms) };
    }
    if (!threw) return { kind: 'complete', ms };
    if (lostThisJob(thrown, job.jid)) {
      return { kind: 'none', outcome: 'lost', report: { outcome: 'lost', durationMs: ms, reason: `its lock was lost while it ran: ${(thrown as Error).message}` } };
    }
    const error = asError(thrown);
    if (thrown instanceof ConnectionError || (thrown instanceof QlessError && thrown.code === 'CONNECTION')) {
      jl.log.warn({ error: error.message }, 'job could not reach Redis; giving it back to its queue');
      return { kind: 'retry', group: `${job.queue}-ConnectionError`, message: errorText(thrown), ms, error, delay: 0 };
    }
    if (isTransient(thrown)) {
      jl.log.warn({ error: error.message }, 'Redis refused a call of the job for now; giving it back to its queue');
      return { kind: 'retry', group: `${job.queue}-${errorName(thrown)}`, message: errorText(thrown), ms, error, delay: 0 };
    }
    const group = `${job.queue}-${errorName(thrown)}`;
    const decision = decide(thrown, policy, job.attempt, job.remaining);
    if (decision.retry) return { kind: 'retry', group, message: errorText(thrown), ms, error, delay: decision.delay };
    return { kind: 'fail', group, message: errorText(thrown), ms, error };
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
  stageMark('runJob');
  const jl = new JobLog(deps.log, run.job);
  const span = deps.tracing?.start(run.job);
  const attempt = run.job.attempt;
  const { outcome, report } = await runToVerdict(run, deps, jl, span);
  report.attempt = attempt;
  run.outcome = outcome;
  try {
    reportRun(run, report, deps, jl);
  } finally {
    span?.end(report);
  }
  return outcome;
}

/** The one line per finished job, and its event. */
function reportRun(run: Run, report: RunReport, deps: RunnerDeps, jl: JobLog): void {
  const { job } = run;
  const fields = jl.fields();
  fields['outcome'] = report.outcome;
  fields['ms'] = Math.round(report.durationMs * 10) / 10;
  fields['attempt'] = report.attempt ?? job.attempt;
  if (run.worker !== deps.name) fields['holder'] = run.worker;
  if (report.group !== undefined) fields['group'] = report.group;
  if (report.delay !== undefined) fields['delay'] = Math.round(report.delay * 1000) / 1000;
  if (report.reason !== undefined) fields['reason'] = report.reason;
  if (report.error !== undefined && report.outcome === 'fail') Object.assign(fields, errorFields(report.error));
  else if (report.error !== undefined) fields['error'] = report.error.message;
  jl.info(fields, FINISHED[report.outcome]);
  const base = { job, queue: jl.queue, attempt: report.attempt ?? job.attempt, durationMs: report.durationMs };
  switch (report.outcome) {
    case 'complete':
      return deps.events.emit('job:complete', base);
    case 'fail':
      return deps.events.emit('job:fail', { ...base, group: report.group ?? '', error: report.error ?? described('JobFailed', 'the job failed') });
    case 'retry':
      return deps.events.emit('job:retry', { ...base, group: report.group ?? '', delay: report.delay ?? 0, error: report.error ?? described('JobRetried', 'the job was retried') });
    case 'lost':
      return deps.events.emit('job:lost', { ...base, reason: report.reason ?? 'lost' });
    case 'timeout':
      return deps.events.emit('job:timeout', base);
    case 'canceled':
      return deps.events.emit('job:canceled', base);
  }
}

async function runToVerdict(run: Run, deps: RunnerDeps, jl: JobLog, span: JobSpan | undefined): Promise<{ outcome: RunOutcome; report: RunReport }> {
  const { job } = run;
  let verdict: Verdict;
  try {
    const confirming = deps.confirm(run);
    verdict = confirming && !(await confirming)
      ? { kind: 'none', outcome: 'lost', report: { outcome: 'lost', durationMs: 0, reason: 'its lock was lost before it started' } }
      : await execute(run, deps, jl, span);
  } catch (error) {
    jl.log.error({ ...errorFields(error) }, 'job runner failed');
    verdict = { kind: 'none', outcome: 'lost', report: { outcome: 'lost', durationMs: 0, reason: `the worker failed: ${(error as Error).message}` } };
  }
  // The slot is free and, for a completion, the verdict queued in the same
  // synchronous step (settle calls `complete` before its first await): the
  // child's loop, woken by `slotFree`, then finds the completion waiting and
  // sends it with its next pop instead of making a round trip of its own.
  deps.slotFree(run);
  const lost = (durationMs: number): RunReport => ({ outcome: run.aborted === 'timeout' ? 'timeout' : run.aborted === 'canceled' ? 'canceled' : 'lost', durationMs, reason: 'it was no longer this worker\'s when the verdict was sent' });
  try {
    switch (verdict.kind) {
      case 'none':
        return { outcome: verdict.outcome, report: verdict.report };
      case 'complete': {
        const ok = await settle(run, deps, jl, 'complete', () => deps.complete(run));
        return ok ? { outcome: 'completed', report: { outcome: 'complete', durationMs: verdict.ms } } : { outcome: 'lost', report: lost(verdict.ms) };
      }
      case 'retry': {
        const { group, message, delay, error, ms } = verdict;
        let left = 0;
        const ok = await settle(run, deps, jl, 'retry', async () => {
          left = await job.retry(delay, group, message);
        });
        if (!ok) return { outcome: 'lost', report: lost(ms) };
        // No retry left after all (the core's count was lower than ours): the core failed it.
        if (left < 0) return { outcome: 'failed', report: { outcome: 'fail', durationMs: ms, group, error } };
        deps.retried(delay);
        return { outcome: 'retried', report: { outcome: 'retry', durationMs: ms, group, delay, error } };
      }
      case 'fail': {
        const { group, message, error, ms } = verdict;
        const ok = await settle(run, deps, jl, 'fail', () => job.fail(group, message));
        return ok ? { outcome: 'failed', report: { outcome: 'fail', durationMs: ms, group, error } } : { outcome: 'lost', report: lost(ms) };
      }
    }
  } finally {
    run.finished = true;
  }
}
