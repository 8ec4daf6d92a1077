/**
 * JSON-only encoding of user values. `JSON.stringify` quietly drops
 * `undefined` and functions, turns NaN into `null` and Dates into strings,
 * so data would not read back as it was written. Everything that is not
 * plain JSON is refused here, with the path of the offending value, before a
 * single byte reaches Redis; so is data nested deeper than other qless
 * clients can read ({@link MAX_DEPTH}).
 */
import { ForeignDataError, InvalidArgumentError } from './errors.js';
import type { JsonObject, JsonValue } from './types.js';

/**
 * How deeply arrays and objects may nest in job data. Lua's cjson (the
 * core, should it ever decode data) and Python's json module stop near
 * 1000 levels, so deeper data could be written but not read by every
 * client; refusing it also keeps the check's own recursion bounded.
 */
export const MAX_DEPTH = 1000;

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

/** Throw unless `value` is made only of JSON values, nested at most {@link MAX_DEPTH} deep. */
export function assertJson(value: unknown, path: string): void {
  new JsonCheck(path).value(value);
}

/**
 * One walk of {@link assertJson}. The path of the value being looked at is
 * kept as the keys that lead to it and spelled out only for a message, so
 * that checking good data builds no strings.
 */
class JsonCheck {
  readonly #root: string;
  // The containers on the path to the current value (to find cycles), and
  // the keys that lead to it from the root.
  readonly #containers: object[] = [];
  readonly #keys: Array<string | number> = [];

  constructor(root: string) {
    this.#root = root;
  }

  #path(): string {
    let path = this.#root;
    for (const key of this.#keys) path = pathOf(path, key);
    return path;
  }

  #fail(message: (path: string) => string): never {
    throw new InvalidArgumentError(message(this.#path()));
  }

  value(value: unknown): void {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(value)) this.#fail((path) => `${path} is ${describe(value)}, which JSON cannot represent`);
        return;
      case 'object':
        if (value === null) return;
        this.#container(value);
        return;
      default:
        this.#fail((path) => `${path} is ${describe(value)}; qless data must be plain JSON`);
    }
  }

  #container(value: object): void {
    const containers = this.#containers;
    if (containers.includes(value)) this.#fail((path) => `${path} refers back to itself (a cycle); qless data must be plain JSON`);
    if (containers.length >= MAX_DEPTH) {
      this.#fail((path) => {
        const shown = path.length > 80 ? `${path.slice(0, 77)}…` : path;
        return `${shown} is nested more than ${MAX_DEPTH} levels deep; qless data must be nested less deeply, so that every qless client can read it`;
      });
    }
    containers.push(value);
    const keys = this.#keys;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        keys.push(i);
        if (!(i in value)) this.#fail((path) => `${path} is a hole in a sparse array; qless data must be plain JSON`);
        this.value(value[i]);
        keys.pop();
      }
    } else {
      if (!isPlainObject(value)) {
        this.#fail((path) => `${path} is ${describe(value)}; qless data must be plain JSON (convert it to a string, number, array or plain object)`);
      }
      if (Object.getOwnPropertySymbols(value).length > 0) this.#fail((path) => `${path} has symbol keys, which JSON cannot represent`);
      const record = value as Record<string, unknown>;
      for (const key in record) {
        // for…in also walks inherited keys; a plain object has none but its own.
        if (!Object.hasOwn(record, key)) continue;
        keys.push(key);
        this.value(record[key]);
        keys.pop();
      }
    }
    containers.pop();
  }
}

/** JSON text of a plain JSON object; anything else is refused. */
export function encodeObject(value: unknown, what: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be a plain JSON object, got ${Array.isArray(value) ? 'an array' : describe(value)}`);
  }
  if (!isFlatJson(value)) assertJson(value, what);
  return JSON.stringify(value);
}

/**
 * True for a plain object whose values are all strings, booleans, null or
 * finite numbers: JSON as it is, and what most job data looks like. Such an
 * object needs no walk; anything else (nesting included) gets the full
 * check, which names what is wrong.
 */
function isFlatJson(value: object): boolean {
  if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    switch (typeof item) {
      case 'string':
      case 'boolean':
        break;
      case 'number':
        if (!Number.isFinite(item)) return false;
        break;
      case 'object':
        if (item !== null) return false;
        break;
      default:
        return false;
    }
  }
  return true;
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

/**
 * A job's data as stored, read: `object` when it is a JSON object (what
 * qless-ts puts and job code expects), otherwise `value` holds whatever
 * another client stored (an array, a number, text that is not JSON…) and
 * `shape` names it for messages.
 */
export type StoredData = { object: JsonObject; value: JsonObject } | { object: undefined; value: JsonValue; shape: string };

/** Parse a job's data text (see {@link StoredData}). */
export function parseData(text: string): StoredData {
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    return { object: undefined, value: text, shape: 'text that is not JSON' };
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { object: parsed, value: parsed };
  const shape = Array.isArray(parsed) ? 'a JSON array' : parsed === null ? 'JSON null' : `a JSON ${typeof parsed}`;
  return { object: undefined, value: parsed, shape };
}

/**
 * The data of a job or recurring template: the object code reads and
 * changes, and what the core held when it was last read. Data another
 * client stored that is not an object is never turned into something else:
 * reading it as an object throws {@link ForeignDataError}, and it is sent
 * back exactly as it was unless code assigns an object.
 */
export class DataSlot {
  readonly #owner: string;
  readonly #text: string;
  // Parsed on first use: a worker that never reads a job's data (or only
  // passes it along) pays no JSON.parse for it.
  #stored: StoredData | undefined;
  #object: JsonObject | undefined;
  // Whether code may have changed the data: it has held the object (or
  // assigned one). Until then the stored text is what the data is, and it
  // is sent back as it is, without being encoded again.
  #handedOut = false;

  /** `owner` is the jid, for messages; `text` the stored data. */
  constructor(owner: string, text: string) {
    this.#owner = owner;
    this.#text = text;
  }

  #parsed(): StoredData {
    if (this.#stored === undefined) {
      this.#stored = parseData(this.#text);
      this.#object = this.#stored.object;
    }
    return this.#stored;
  }

  /** The data object; throws ForeignDataError when the stored data is not one. */
  get object(): JsonObject {
    const stored = this.#parsed();
    if (this.#object !== undefined) {
      this.#handedOut = true;
      return this.#object;
    }
    throw new ForeignDataError(this.#owner, stored.object === undefined ? stored.shape : 'not an object');
  }

  set object(value: JsonObject) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`data of job ${this.#owner} must be a plain JSON object, got ${Array.isArray(value) ? 'an array' : describe(value)}`);
    }
    this.#parsed();
    this.#object = value;
    this.#handedOut = true;
  }

  /** The stored text, as last read. */
  get raw(): string {
    return this.#text;
  }

  /** The data as plain JSON for a snapshot: the object, else what was stored. */
  get snapshot(): JsonValue {
    const stored = this.#parsed();
    if (this.#object === undefined) return stored.value;
    this.#handedOut = true;
    return this.#object;
  }

  /**
   * The JSON text to send: the object, checked, once code may have changed
   * it; else the stored text untouched.
   */
  encode(): string {
    return this.#handedOut && this.#object !== undefined ? encodeObject(this.#object, `data of job ${this.#owner}`) : this.#text;
  }
}
