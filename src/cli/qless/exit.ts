/**
 * Exit codes of `qless-ts`, written down once (the README's table is copied
 * from here), and the errors the commands raise to choose one of them.
 */
import { InvalidArgumentError, QlessError } from '../../errors.js';
import { isConnectionProblem, plainMessage } from '../../messages.js';

/** What each exit status means. */
export const EXIT = {
  /** The command did what it was asked. */
  OK: 0,
  /** The command ran but failed: no such job, the core refused, nothing to confirm, declined. */
  FAILED: 1,
  /** The command line was wrong: unknown command or option, bad value, bad input file, missing `--yes`. */
  USAGE: 2,
  /** Redis could not be reached (refused, timed out, authentication failed, connection lost). */
  UNREACHABLE: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Rows of the exit-code table, in order, for `--help` and the README. */
export const EXIT_TABLE: ReadonlyArray<readonly [ExitCode, string]> = [
  [EXIT.OK, 'success (also `watch` stopped with Ctrl-C)'],
  [EXIT.FAILED, 'operation failed: no such job/option, refused by the core, confirmation declined'],
  [EXIT.USAGE, 'usage error: unknown command or option, invalid value, bad ndjson line, no --yes without a terminal'],
  [EXIT.UNREACHABLE, 'cannot reach Redis'],
];

/** An error that carries its own exit status and a message for stderr. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT.FAILED) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The command line itself was wrong (exit 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

/** Something asked for does not exist (exit 1). */
export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, EXIT.FAILED);
    this.name = 'NotFoundError';
  }
}

/** Redis is out of reach (exit 3). */
export class UnreachableError extends CliError {
  constructor(message: string) {
    super(message, EXIT.UNREACHABLE);
    this.name = 'UnreachableError';
  }
}

/**
 * Some of a command's items failed and each was already reported on its own
 * line (see each.ts): exit 1 without a further message.
 */
export class ReportedError extends CliError {
  constructor() {
    super('', EXIT.FAILED);
    this.name = 'ReportedError';
  }
}

/** The exit status an error thrown by a command maps to. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  // The library refuses bad arguments before sending anything: a usage error.
  if (error instanceof InvalidArgumentError) return EXIT.USAGE;
  if (isConnectionProblem(error)) return EXIT.UNREACHABLE;
  if (error instanceof QlessError) return EXIT.FAILED;
  return EXIT.FAILED;
}

/**
 * The one-line message printed on stderr for an error: the command's own
 * words, or the plain sentence for what the library or the core said.
 */
export function messageOf(error: unknown): string {
  if (error instanceof CliError) return error.message;
  return plainMessage(error);
}
