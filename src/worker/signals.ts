/**
 * Signals and exit codes of `qless-ts-worker`, in one table. The supervisor
 * and the children act on these constants, the README prints the same table,
 * and the tests check the behaviour row by row.
 */

/** Exit statuses of the supervisor (parent) and of its children. */
export const EXIT = {
  /** Parent: shut down as asked (all children gone). Child: stopped as the parent asked. */
  OK: 0,
  /** Parent: fatal error (a `--import` module failed, the work directory is unusable or another supervisor works in it). Child: crashed. */
  FAILURE: 1,
  /** Parent: bad command line; nothing was started. */
  USAGE: 2,
  /** Child: asks to be replaced (hot reload, `--max-jobs`, `--max-memory`, a job ignoring its abort). */
  RECYCLE: 3,
  /** Child: could not start (its `--import` modules or its set-up failed). */
  CHILD_STARTUP: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit status means, as the README prints it. */
export const EXIT_TABLE: ReadonlyArray<{ code: ExitCode; meaning: string }> = [
  { code: EXIT.OK, meaning: 'supervisor: shut down as asked (after SIGTERM, SIGINT or SIGQUIT), every child gone; child: stopped as asked' },
  { code: EXIT.FAILURE, meaning: 'supervisor: fatal error (an `--import` module failed, the work directory is unusable or another supervisor works in it); child: crashed on an uncaught error (replaced with back-off)' },
  { code: EXIT.USAGE, meaning: 'supervisor: bad command line, reported on stderr; nothing was started' },
  { code: EXIT.RECYCLE, meaning: 'child: asks to be replaced (hot reload, `--max-jobs`, `--max-memory`, SIGHUP, a job ignoring its abort); replaced at once' },
  { code: EXIT.CHILD_STARTUP, meaning: 'child: could not start (its `--import` modules or set-up failed); replaced with back-off' },
];

/** What one signal does to the supervisor and to a child. */
export interface SignalRow {
  signal: NodeJS.Signals;
  parent: string;
  child: string;
}

/**
 * The table. SIGUSR1 is left alone on purpose: Node uses it to start the
 * inspector.
 */
export const SIGNALS: readonly SignalRow[] = [
  {
    signal: 'SIGTERM',
    parent: 'graceful stop: children stop popping, running jobs finish within `--grace`, exit 0; a second TERM/INT, or the end of `--grace`, stops at once (unfinished jobs stay locked: a restart with `--resume` takes them back, or the core hands them out again once their locks expire and its `grace-period` has passed)',
    child: 'graceful stop of that child (it finishes its jobs and exits 0); the supervisor replaces it unless it is stopping too',
  },
  {
    signal: 'SIGINT',
    parent: 'same as SIGTERM (Ctrl-C)',
    child: 'ignored: a Ctrl-C reaches the whole process group, and the children act on the supervisor\'s instruction only',
  },
  {
    signal: 'SIGQUIT',
    parent: 'graceful stop without a deadline: running jobs finish however long they take, exit 0',
    child: 'same as SIGTERM',
  },
  {
    signal: 'SIGHUP',
    parent: 'reload: every child finishes its running jobs and is replaced by a fresh one (new code, new `--import` state)',
    child: 'ignored (the supervisor decides)',
  },
  {
    signal: 'SIGUSR2',
    parent: 'log a status report: each child, its pid, worker name and running jobs',
    child: 'log that child\'s running jobs',
  },
  {
    signal: 'SIGKILL',
    parent: '(cannot be caught) each child aborts its jobs (`shutdown`) and exits within a second or so; one whose job blocks its event loop is killed by its watchdog thread about 2 s after. Their jobs stay locked: a restart with `--resume` takes them back once those children are gone, otherwise the core hands them out again once their locks expire and its `grace-period` has passed',
    child: 'the supervisor gives the child\'s jobs back to their queues at once (each uses up a retry) and forks a replacement after the restart back-off',
  },
];

/** Signals the supervisor handles. */
export const PARENT_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
