/**
 * The IPC protocol between the supervisor and its children (JSON messages
 * over the `child_process.fork` channel).
 *
 * A child tells the supervisor which jobs it runs (`claim` before the job's
 * code starts, or just after it when that is safe — see src/worker/parent.ts
 * —, `release` when the child is done with it), so that the
 * supervisor can heartbeat them from its own event loop — which keeps locks
 * alive even while a CPU-bound job blocks the child's — enforce `--timeout`,
 * and know what a dead child left behind. Each run has a number unique
 * within its child, so that a message about a finished run can never be
 * mistaken for a later run of the same jid (a job that advanced to the next
 * queue and was popped again by the same child). Releases ride along with
 * the next claim when one follows soon (one message per job instead of two).
 *
 * `aborted` says the child stopped a job on its own (its worker channel said
 * the job was canceled or moved): the supervisor stops heartbeating it, but
 * still watches the run until `release`, in case the job will not stop.
 *
 * A child may claim jobs it popped ahead of its free slots (see
 * src/worker/ahead.ts), marked `waiting`: they are heartbeated from the
 * claim on, but `--timeout` counts only from `started`, which the child
 * sends (before the job's code runs, like a claim) when `--timeout` is set.
 * `jobs` relays job events (src/worker/job-events.ts) when the supervisor
 * asked for them in `init`.
 *
 * With `--timeout`, claims and `started` also carry `done`: runs whose code
 * is over, still tracked until `release` (their completion is on its way),
 * but no longer timed — the next job may block the child's event loop
 * before that completion's reply, and so the release, gets through.
 */
import type { JobEventName } from '../hooks.js';
import type { WorkerOptions } from './options.js';

/** Why a job's AbortSignal fired. */
export type AbortKind = 'lock_lost' | 'canceled' | 'timeout' | 'shutdown';

/** A job a child starts running. */
export interface ClaimedRun {
  runId: number;
  jid: string;
  queue: string;
  klass: string;
  /** The worker name holding the lock (the child's own, or a resumed holder's). */
  worker: string;
  /** Lock expiry in seconds since the epoch, as popped. */
  expires: number;
  /** Popped ahead: it starts once a slot frees up (see `started`). */
  waiting?: true;
}

/** A job still locked under one of this worker's names, to be taken back. */
export interface ResumeJob {
  jid: string;
  worker: string;
}

/** A module file a child imported, with its modification time when loaded. */
export interface LoadedFile {
  file: string;
  mtimeMs: number;
}

/** Everything a child needs to start. */
export interface ChildInit {
  index: number;
  options: WorkerOptions;
  /** Jobs this child takes back first (only the supervisor's first children get any). */
  resume: ResumeJob[];
  /** Relay job events to the supervisor (it serves metrics or has hook listeners); undefined: do not. */
  relay?: RelaySettings;
}

/** Which job events the supervisor wants relayed: every end of a run, and starts only if asked. */
export interface RelaySettings {
  start: boolean;
}

/** A job event as a child relays it (see src/hooks.ts for the payloads). */
export interface RelayedEvent {
  event: JobEventName;
  job: { jid: string; klass: string; queue: string; worker: string; attempt: number; retries: number; remaining: number };
  durationMs?: number;
  group?: string;
  delay?: number;
  reason?: string;
  error?: { name: string; message: string; stack?: string };
}

/** Messages from a child to the supervisor. */
export type ChildMessage =
  | { type: 'hello' }
  | { type: 'ready'; worker: string }
  | { type: 'claim'; runs: ClaimedRun[]; released: number[]; done?: number[] }
  | { type: 'release'; runs: number[] }
  | { type: 'started'; runs: number[]; done?: number[] }
  | { type: 'aborted'; runId: number; jid: string }
  | { type: 'loaded'; files: LoadedFile[] }
  | { type: 'recycling'; reason: string }
  | { type: 'pong'; seq: number; rss: number; heapUsed: number }
  | { type: 'jobs'; events: RelayedEvent[] };

/** Messages from the supervisor to a child. */
export type ParentMessage =
  | { type: 'init'; init: ChildInit }
  | { type: 'abort'; runId: number; jid: string; kind: AbortKind; reason: string }
  | { type: 'expires'; runId: number; expires: number }
  | { type: 'stop'; now: boolean }
  | { type: 'recycle'; reason: string }
  | { type: 'ping'; seq: number }
  | { type: 'status' };

const CHILD_TYPES = new Set(['hello', 'ready', 'claim', 'release', 'started', 'aborted', 'loaded', 'recycling', 'pong', 'jobs']);
const PARENT_TYPES = new Set(['init', 'abort', 'expires', 'stop', 'recycle', 'ping', 'status']);

function typed(value: unknown, types: Set<string>): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && types.has((value as { type: string }).type);
}

/** Narrow an IPC message from a child (anything else is ignored). */
export function isChildMessage(value: unknown): value is ChildMessage {
  return typed(value, CHILD_TYPES);
}

/** Narrow an IPC message from the supervisor. */
export function isParentMessage(value: unknown): value is ParentMessage {
  return typed(value, PARENT_TYPES);
}

/**
 * How long a job may ignore its AbortSignal before its child stops taking
 * work and asks to be replaced (once its other jobs are done).
 */
export const ABORT_GRACE_MS = 3000;
/**
 * How long after an abort (or a stop-now) the supervisor waits for a child
 * that has stopped answering pings before it kills it: its event loop is
 * blocked by a job that will not stop.
 */
export const UNRESPONSIVE_KILL_MS = 5000;
/**
 * How long a child may stay stopped by a signal (SIGSTOP, or a SIGTSTP that
 * reached it alone) before the supervisor kills and replaces it: meanwhile
 * its jobs are heartbeated but nothing runs them.
 */
export const STOPPED_KILL_MS = 10_000;
/** The supervisor pings every child this often. */
export const PING_EVERY_MS = 1000;
/**
 * A child that has not answered pings for this long counts as silent: its
 * event loop is blocked (or it is stopped). Two and a half pings, so that
 * one ping answered late is not taken for it.
 */
export const SILENT_CHILD_MS = 2.5 * PING_EVERY_MS;
