/**
 * JSON-only encoding of user values. `JSON.stringify` quietly drops
 * `undefined` and functions, turns NaN into `null` and Dates into strings,
 * so data would not read back as it was written. Everything that is not
 * plain JSON is refused here, with the path of the offending value, before a
 * single byte reaches Redis.
 */
import { InvalidArgumentError } from './errors.js';
import type { JsonObject } from './types.js';

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype';
  }
  return typeof value;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** Throw unless `value` is made only of JSON values. */
export function assertJson(value: unknown, path: string, seen: Set<object> = new Set()): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new InvalidArgumentError(`${path} is ${describe(value)}, which JSON cannot represent`);
      }
      return;
    case 'object':
      break;
    default:
      throw new InvalidArgumentError(`${path} is ${describe(value)}; qless data must be plain JSON`);
  }
  if (value === null) return;
  if (seen.has(value)) throw new InvalidArgumentError(`${path} refers back to itself (a cycle); qless data must be plain JSON`);
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new InvalidArgumentError(`${pathOf(path, i)} is a hole in a sparse array; qless data must be plain JSON`);
      assertJson(value[i], pathOf(path, i), seen);
    }
  } else {
    if (!isPlainObject(value)) {
      throw new InvalidArgumentError(`${path} is ${describe(value)}; qless data must be plain JSON (convert it to a string, number, array or plain object)`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new InvalidArgumentError(`${path} has symbol keys, which JSON cannot represent`);
    }
    for (const [key, item] of Object.entries(value)) assertJson(item, pathOf(path, key), seen);
  }
  seen.delete(value);
}

/** JSON text of a plain JSON object; anything else is refused. */
export function encodeObject(value: unknown, what: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be a plain JSON object, got ${Array.isArray(value) ? 'an array' : describe(value)}`);
  }
  assertJson(value, what);
  return JSON.stringify(value);
}

/** JSON text of a list of strings (tags, jids). */
export function encodeStrings(values: readonly unknown[] | undefined, what: string): string {
  return JSON.stringify(checkStrings(values, what));
}

/** Check a list of non-empty strings and return it as a fresh array. */
export function checkStrings(values: readonly unknown[] | undefined, what: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values)) throw new InvalidArgumentError(`${what} must be an array of strings`);
  return values.map((value, i) => {
    if (typeof value !== 'string' || value === '') {
      throw new InvalidArgumentError(`${what}[${i}] must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : describe(value)}`);
    }
    return value;
  });
}

/** Parse a job's data text; data that is not an object is reported as such. */
export function parseData(text: string): { data: JsonObject; foreign: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { data: {}, foreign: true };
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    return { data: parsed as JsonObject, foreign: false };
  }
  return { data: {}, foreign: true };
}
