/**
 * Parsers for option and argument values. They throw commander's
 * InvalidArgumentError, so a bad value is reported by commander like any
 * other usage error (`error: option '--priority <n>' argument 'x' is
 * invalid. …`, exit 2) before anything connects to Redis.
 */
import { InvalidArgumentError as BadValue } from 'commander';
import type { JsonObject } from '../../types.js';

/** Any finite number: priorities, delays. */
export function number(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new BadValue('not a number.');
  return n;
}

/** A number greater than zero: intervals, timeouts. */
export function positive(text: string): number {
  const n = number(text);
  if (n <= 0) throw new BadValue('must be greater than 0.');
  return n;
}

/** A whole number of at least zero: counts, offsets, retries. */
export function count(text: string): number {
  const n = number(text);
  if (!Number.isInteger(n) || n < 0) throw new BadValue('must be a whole number of at least 0.');
  return n;
}

/** A TCP port. */
export function port(text: string): number {
  const n = number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BadValue('must be a port number (1-65535).');
  return n;
}

/** A JSON object, as job data must be. */
export function jsonObject(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadValue(`not JSON (${(error as Error).message}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadValue('must be a JSON object, like {"key": "value"}.');
  }
  return value as JsonObject;
}

/**
 * A day, as `YYYY-MM-DD` (UTC) or anything `Date` parses; returned as seconds
 * since the epoch at noon UTC of that day, safely inside the core's day bin.
 */
export function date(text: string): number {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = iso ? Date.UTC(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])) : Date.parse(text);
  // Date.UTC rolls 2024-02-31 over into March; refuse it instead.
  if (!Number.isFinite(ms) || (iso && new Date(ms).toISOString().slice(0, 10) !== text)) {
    throw new BadValue('not a date (use YYYY-MM-DD).');
  }
  const dayStart = Math.floor(ms / 86_400_000) * 86_400;
  return dayStart + 43_200;
}

/** For repeatable options (`--tag a --tag b`): collect every value. */
export function collect(value: string, previous: string[] | undefined): string[] {
  if (value === '') throw new BadValue('must not be empty.');
  return [...(previous ?? []), value];
}

/** A page size: a whole number of at least 1 (the core reads 0 as "everything"). */
export function limit(text: string): number {
  const n = number(text);
  if (!Number.isInteger(n) || n < 1) throw new BadValue('must be a whole number of at least 1.');
  return n;
}
