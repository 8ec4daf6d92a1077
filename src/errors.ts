/**
 * Typed errors. Every error the library raises is a {@link QlessError}; the
 * core's script errors are classified by the message texts that qless-core
 * clients have always matched on, so callers can branch on `code` or on the
 * class instead of parsing strings.
 */

/** Stable machine-readable error codes. */
export type QlessErrorCode =
  | 'QLESS_ERROR'
  | 'SCRIPT_ERROR'
  | 'JOB_NOT_FOUND'
  | 'LOST_LOCK'
  | 'WRONG_STATE'
  | 'INVALID_ARGUMENT'
  | 'CONNECTION'
  | 'DURABILITY'
  | 'UNEXPECTED_REPLY'
  | 'FOREIGN_DATA'
  | 'CROSS_NAMESPACE'
  | 'UNRECOVERABLE';

/** Base class of every error raised by qless-ts. */
export class QlessError extends Error {
  readonly code: QlessErrorCode;

  constructor(message: string, code: QlessErrorCode = 'QLESS_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Options of a {@link ScriptError}: the underlying error and the job concerned. */
export interface ScriptErrorOptions {
  cause?: unknown;
  /** The job the refused call was about, when there was one. */
  jid?: string;
}

/**
 * The core script refused a call; `scriptMessage` is its message text. When
 * the call concerned one job, `jid` names it and so does the message.
 */
export class ScriptError extends QlessError {
  readonly command: string;
  readonly scriptMessage: string;
  readonly jid: string | undefined;

  constructor(command: string, scriptMessage: string, code: QlessErrorCode = 'SCRIPT_ERROR', options?: ScriptErrorOptions) {
    const subject = options?.jid === undefined ? command : `${command} of job ${options.jid}`;
    super(`${subject}: ${scriptMessage}`, code, options);
    this.command = command;
    this.scriptMessage = scriptMessage;
    this.jid = options?.jid;
  }
}

/** The job (or recurring job) named in the call does not exist. */
export class JobNotFoundError extends ScriptError {
  constructor(command: string, scriptMessage: string, options?: ScriptErrorOptions) {
    super(command, scriptMessage, 'JOB_NOT_FOUND', options);
  }
}

/**
 * This worker no longer owns the job: it was handed to another worker, timed
 * out, moved, re-put, cancelled or completed, so its heartbeat, completion or
 * failure was refused.
 */
export class LostLockError extends ScriptError {
  constructor(command: string, scriptMessage: string, options?: ScriptErrorOptions) {
    super(command, scriptMessage, 'LOST_LOCK', options);
  }
}

/** The job exists but is in a state that does not allow the operation. */
export class WrongStateError extends ScriptError {
  constructor(command: string, scriptMessage: string, options?: ScriptErrorOptions) {
    super(command, scriptMessage, 'WRONG_STATE', options);
  }
}

/** An argument was refused before anything was sent to Redis. */
export class InvalidArgumentError extends QlessError {
  constructor(message: string) {
    super(message, 'INVALID_ARGUMENT');
  }
}

/**
 * A job's data is not a JSON object (another qless client stored an array, a
 * number or text), so `job.data` cannot hand it over as one; `job.rawData`
 * has it as stored.
 */
export class ForeignDataError extends QlessError {
  readonly jid: string;

  constructor(jid: string, shape: string) {
    super(`the data of job ${jid} is ${shape}, not a JSON object (another qless client stored it); read it from job.rawData, or assign job.data an object to replace it`, 'FOREIGN_DATA');
    this.jid = jid;
  }
}

/** Redis could not be reached (or went away mid-call). */
export class ConnectionError extends QlessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONNECTION', options);
  }
}

/** What a {@link DurabilityError} reports about one write. */
export interface DurabilityShortfall {
  /** The core command (`put`, `complete`, …). */
  command: string;
  /** The job it was about, when there was one. */
  jid?: string;
  /** Replicas asked for, and how many confirmed the write in time. */
  required: number;
  acknowledged: number;
  timeoutMs: number;
  /** The command's own reply: the write was applied on the primary. */
  reply: unknown;
  /** Why replication could not be checked at all, when it could not (e.g. the connection went to a replica). */
  reason?: string;
}

/**
 * A write asked to be durable (`durability: { replicas }`) was applied on
 * the primary, but fewer replicas than asked confirmed it (Redis `WAIT`)
 * within the timeout: if the primary fails before they catch up, a replica
 * promoted in its place may not have it. The write itself is not undone.
 */
export class DurabilityError extends QlessError {
  readonly command: string;
  readonly jid: string | undefined;
  readonly required: number;
  readonly acknowledged: number;
  readonly timeoutMs: number;
  readonly reply: unknown;

  constructor(shortfall: DurabilityShortfall) {
    const subject = shortfall.jid === undefined ? shortfall.command : `${shortfall.command} of job ${shortfall.jid}`;
    const confirmed = shortfall.reason === undefined
      ? `only ${shortfall.acknowledged} of ${shortfall.required} replica(s) confirmed it within ${shortfall.timeoutMs} ms`
      : `its replication could not be confirmed (${shortfall.reason})`;
    super(`${subject}: applied on the primary, but ${confirmed}; it may be lost if the primary fails before its replicas catch up`, 'DURABILITY');
    this.command = shortfall.command;
    this.jid = shortfall.jid;
    this.required = shortfall.required;
    this.acknowledged = shortfall.acknowledged;
    this.timeoutMs = shortfall.timeoutMs;
    this.reply = shortfall.reply;
  }
}

/**
 * An operation would reach across namespaces: a job of one namespace handed
 * to a client (or queue) of another. A namespace is a universe of its own
 * (on Redis Cluster, its keys live on one node): a job, its dependencies,
 * its next queue and its tags all live in the job's namespace.
 */
export class CrossNamespaceError extends QlessError {
  readonly jid: string;
  /** The job's namespace (undefined: the default one). */
  readonly jobNamespace: string | undefined;
  /** The namespace the operation acts in (undefined: the default one). */
  readonly targetNamespace: string | undefined;

  constructor(operation: string, jid: string, jobNamespace: string | undefined, targetNamespace: string | undefined) {
    const name = (namespace: string | undefined): string => (namespace === undefined ? 'the default namespace' : `namespace ${namespace}`);
    super(
      `${operation} of job ${jid}: the job belongs to ${name(jobNamespace)}, not to ${name(targetNamespace)}; ` +
        'a job can only be acted on in its own namespace (use a client of that namespace)',
      'CROSS_NAMESPACE',
    );
    this.jid = jid;
    this.jobNamespace = jobNamespace;
    this.targetNamespace = targetNamespace;
  }
}

/**
 * Pull the script's own message out of a Redis error reply. Redis 7 wraps it
 * as `ERR user_script:<line>: <message> script: <sha>, on @user_script:<line>.`
 * (EVALSHA) or `ERR user_function:<line>: <message> script: <function>, on
 * @user_function:<line>.` (FCALL), and other versions differently, so only
 * the wrapper is stripped.
 */
export function scriptMessageOf(redisMessage: string): string {
  let message = redisMessage;
  const wrapped = /^(?:ERR )?(?:user_script|user_function|f_[0-9a-f]+):\d+: ([\s\S]*?)(?: script: [0-9a-z_]+, on @user_(?:script|function):\d+\.)?$/.exec(message);
  if (wrapped?.[1] !== undefined) {
    message = wrapped[1];
  } else {
    message = message.replace(/ script: [0-9a-z_]+, on @user_(?:script|function):\d+\.$/, '').replace(/^ERR /, '');
  }
  return message;
}

// A worker that lost its lock sees one of these texts from heartbeat,
// complete, fail or retry.
const LOST_LOCK_PATTERNS = [
  /given out to another worker/,
  /handed out to another worker/,
  /running with another worker/,
  /given to another worker/,
  /not currently running/,
  /running in another queue/,
];

/** Classify a script error from the command that raised it and its message. */
export function classifyScriptError(command: string, redisMessage: string, cause?: unknown, jid?: string): ScriptError {
  const message = scriptMessageOf(redisMessage);
  const options: ScriptErrorOptions = {};
  if (cause !== undefined) options.cause = cause;
  if (jid !== undefined) options.jid = jid;
  if (/does not exist|No recurring job/.test(message)) {
    return new JobNotFoundError(command, message, options);
  }
  if (['heartbeat', 'complete', 'fail', 'retry', 'job.progress'].includes(command) && LOST_LOCK_PATTERNS.some((re) => re.test(message))) {
    return new LostLockError(command, message, options);
  }
  if (/not currently running|not running|not in the depends state|is a dependency of/.test(message)) {
    return new WrongStateError(command, message, options);
  }
  return new ScriptError(command, message, 'SCRIPT_ERROR', options);
}

/**
 * The same error, but naming the job it was about: core messages name the
 * jid inconsistently (`Fail(): Job <jid>does not exist`), so every job
 * method passes its errors through here.
 */
export function aboutJob(error: unknown, jid: string): unknown {
  if (!(error instanceof ScriptError) || error.jid !== undefined) return error;
  const options: ScriptErrorOptions = { cause: error.cause ?? error, jid };
  if (error instanceof JobNotFoundError) return new JobNotFoundError(error.command, error.scriptMessage, options);
  if (error instanceof LostLockError) return new LostLockError(error.command, error.scriptMessage, options);
  if (error instanceof WrongStateError) return new WrongStateError(error.command, error.scriptMessage, options);
  return new ScriptError(error.command, error.scriptMessage, error.code, options);
}

/**
 * Thrown by a job's code to fail the job at once, whatever retry policy its
 * class or the worker has: the error is not one that time would cure (bad
 * input, a refused payment). The failure group is `<queue>-<name>` as for
 * any other error, so give a subclass its own `name` to group by it.
 */
export class UnrecoverableError extends QlessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'UNRECOVERABLE', options);
  }
}
