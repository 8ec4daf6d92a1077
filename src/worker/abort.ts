/**
 * The reason a job's AbortSignal carries. Named `AbortError`, like the
 * errors fetch() and timers reject with when aborted, so code that already
 * tells aborts apart from failures does the same here; `kind` says why.
 */
import type { AbortKind } from './protocol.js';

export class JobAbortedError extends Error {
  /** Why the worker stopped the job. */
  readonly kind: AbortKind;
  readonly jid: string;

  constructor(jid: string, kind: AbortKind, reason: string) {
    super(`job ${jid} aborted (${kind}): ${reason}`);
    this.name = 'AbortError';
    this.kind = kind;
    this.jid = jid;
  }
}
