/**
 * Argument checks made before a call reaches the core. The core would refuse
 * most of these too, but only with a terse message and sometimes after part
 * of the work is written; refusing here keeps Redis untouched and names the
 * argument.
 */
import { InvalidArgumentError } from './errors.js';

/** A finite number (priorities, delays, intervals). */
export function finite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${what} must be a finite number, got ${String(value)}`);
  }
  return value;
}

/** A whole number not below `min` (counts, offsets, retries). */
export function integer(value: unknown, what: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${what} must be an integer of at least ${min}, got ${String(value)}`);
  }
  return value;
}

/** A non-empty string (jids, queue names, groups, messages). */
export function name(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`${what} must be a non-empty string, got ${value === '' ? 'an empty string' : String(value)}`);
  }
  return value;
}

/**
 * The endings qless keeps for a job's own keys (`ql:j:<jid>-history`, …): a
 * job whose jid ends in one would share keys with another job's.
 */
export const RESERVED_JID_SUFFIXES = ['-history', '-dependents', '-dependencies'] as const;

/** A jid a new or moved job may have: non-empty, and not ending in a reserved suffix. */
export function jid(value: unknown, what = 'jid'): string {
  const text = name(value, what);
  const suffix = RESERVED_JID_SUFFIXES.find((end) => text.endsWith(end));
  if (suffix !== undefined) {
    throw new InvalidArgumentError(`${what} ${text} ends in "${suffix}", an ending qless keeps for its own keys (ql:j:<jid>${suffix}); choose another jid`);
  }
  return text;
}

