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
  | 'CONNECTION';

/** Base class of every error raised by qless-ts. */
export class QlessError extends Error {
  readonly code: QlessErrorCode;

  constructor(message: string, code: QlessErrorCode = 'QLESS_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The core script refused a call; `scriptMessage` is its message text. */
export class ScriptError extends QlessError {
  readonly command: string;
  readonly scriptMessage: string;

  constructor(command: string, scriptMessage: string, code: QlessErrorCode = 'SCRIPT_ERROR', options?: { cause?: unknown }) {
    super(`${command}: ${scriptMessage}`, code, options);
    this.command = command;
    this.scriptMessage = scriptMessage;
  }
}

/** The job (or recurring job) named in the call does not exist. */
export class JobNotFoundError extends ScriptError {
  constructor(command: string, scriptMessage: string, options?: { cause?: unknown }) {
    super(command, scriptMessage, 'JOB_NOT_FOUND', options);
  }
}

/**
 * This worker no longer owns the job: it was handed to another worker, timed
 * out, moved, re-put, cancelled or completed, so its heartbeat, completion or
 * failure was refused.
 */
export class LostLockError extends ScriptError {
  constructor(command: string, scriptMessage: string, options?: { cause?: unknown }) {
    super(command, scriptMessage, 'LOST_LOCK', options);
  }
}

/** The job exists but is in a state that does not allow the operation. */
export class WrongStateError extends ScriptError {
  constructor(command: string, scriptMessage: string, options?: { cause?: unknown }) {
    super(command, scriptMessage, 'WRONG_STATE', options);
  }
}

/** An argument was refused before anything was sent to Redis. */
export class InvalidArgumentError extends QlessError {
  constructor(message: string) {
    super(message, 'INVALID_ARGUMENT');
  }
}

/** Redis could not be reached (or went away mid-call). */
export class ConnectionError extends QlessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONNECTION', options);
  }
}

/**
 * Pull the script's own message out of a Redis error reply. Redis 7 wraps it
 * as `ERR user_script:<line>: <message> script: <sha>, on @user_script:<line>.`
 * and other versions differently, so only the wrapper is stripped.
 */
export function scriptMessageOf(redisMessage: string): string {
  let message = redisMessage;
  const wrapped = /^(?:ERR )?(?:user_script|f_[0-9a-f]+):\d+: ([\s\S]*?)(?: script: [0-9a-f]{40}, on @user_script:\d+\.)?$/.exec(message);
  if (wrapped?.[1] !== undefined) {
    message = wrapped[1];
  } else {
    message = message.replace(/ script: [0-9a-f]{40}, on @user_script:\d+\.$/, '').replace(/^ERR /, '');
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
export function classifyScriptError(command: string, redisMessage: string, cause?: unknown): ScriptError {
  const message = scriptMessageOf(redisMessage);
  const options = cause === undefined ? undefined : { cause };
  if (/does not exist|No recurring job/.test(message)) {
    return new JobNotFoundError(command, message, options);
  }
  if (['heartbeat', 'complete', 'fail', 'retry'].includes(command) && LOST_LOCK_PATTERNS.some((re) => re.test(message))) {
    return new LostLockError(command, message, options);
  }
  if (/not currently running|not running|not in the depends state|is a dependency of/.test(message)) {
    return new WrongStateError(command, message, options);
  }
  return new ScriptError(command, message, 'SCRIPT_ERROR', options);
}
