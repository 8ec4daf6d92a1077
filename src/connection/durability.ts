/**
 * Opt-in durability: after the core calls that create or finish jobs, the
 * client sends Redis `WAIT <replicas> <timeout>` on the same connection, in
 * the same round trip, and reports a {@link DurabilityError} when fewer
 * replicas than asked confirmed the write in time. Replication in Redis is
 * asynchronous: without this, a write acknowledged just before the primary
 * dies can be missing on the replica promoted in its place.
 */
import { InvalidArgumentError } from '../errors.js';

/** `durability` as a client option. */
export interface DurabilityOptions {
  /** Replicas that must confirm a write (at least 1). */
  replicas: number;
  /** How long to wait for them, in milliseconds (default {@link DEFAULT_WAIT_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** Checked durability settings. */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/**
 * The default `WAIT` timeout. `WAIT` holds the connection, so every call of
 * the client queued behind a write waits too when a replica is slow or gone;
 * a bound keeps a lost replica from stalling the client for long.
 */
export const DEFAULT_WAIT_TIMEOUT_MS = 1000;

/**
 * The core commands a durable client waits for: those that put a job, or
 * settle one (a lost `complete` makes a job run again). A `multi` batch is
 * waited for when it holds one of them.
 */
export const DURABLE_COMMANDS: ReadonlySet<string> = new Set(['put', 'requeue', 'complete', 'fail', 'retry']);

/** Where each durable command carries its jid among its arguments (after `now`). */
const JID_ARG: Readonly<Record<string, number>> = { put: 2, requeue: 2, complete: 0, fail: 0, retry: 0 };

/** The jid a durable call is about, for messages. */
export function durableJid(command: string, args: readonly unknown[]): string | undefined {
  const index = JID_ARG[command];
  const jid = index === undefined ? undefined : args[index];
  return jid === undefined ? undefined : String(jid);
}

function wholeNumber(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${what} must be a whole number of at least ${min}, got ${String(value)}`);
  }
  return value;
}

/** Check the `durability` option; `undefined` (or 0 replicas) means writes are not waited for. */
export function checkDurability(options: DurabilityOptions | undefined): Durability | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`durability must be an object such as { replicas: 1, timeoutMs: 100 }, got ${String(options)}`);
  }
  const replicas = wholeNumber(options.replicas, 'durability.replicas', 0);
  // WAIT 0 would block forever; a timeout is what keeps a lost replica from hanging the client.
  const timeoutMs = options.timeoutMs === undefined ? DEFAULT_WAIT_TIMEOUT_MS : wholeNumber(options.timeoutMs, 'durability.timeoutMs', 1);
  return replicas === 0 ? undefined : { replicas, timeoutMs };
}

/**
 * The settings from `--wait-replicas <n>` and `--wait-timeout <ms>` as
 * commander hands them over (strings, or undefined when not given).
 */
export function durabilityFromFlags(replicas: string | undefined, timeoutMs: string | undefined): Durability | undefined {
  const number = (text: string, flag: string, min: number): number => {
    const trimmed = text.trim();
    const value = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || value < min) throw new InvalidArgumentError(`${flag} must be a whole number of at least ${min}, got "${text}"`);
    return value;
  };
  if (replicas === undefined) {
    if (timeoutMs !== undefined) throw new InvalidArgumentError('--wait-timeout needs --wait-replicas <n>: how many replicas to wait for');
    return undefined;
  }
  const options: DurabilityOptions = { replicas: number(replicas, '--wait-replicas', 0) };
  if (timeoutMs !== undefined) options.timeoutMs = number(timeoutMs, '--wait-timeout', 1);
  return checkDurability(options);
}
