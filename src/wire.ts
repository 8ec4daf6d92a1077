/**
 * Decoding the core's replies. The core answers in four shapes (JSON text,
 * integers, plain Redis arrays and nil) and encodes every empty list as `{}`
 * (lua-cjson cannot tell an empty array from an empty object). This module is
 * the one place that knows both facts: callers get typed records with real
 * arrays.
 */
import { QlessError } from './errors.js';
import type { CoreReply } from './gateway.js';
import type {
  Failure,
  HistoryEntry,
  JobState,
  JsonValue,
  ProgressValue,
  QueueCounts,
  QueueStats,
  TimingStats,
  WorkerCounts,
  WorkerJobs,
} from './types.js';

/** Raised when a reply does not have the shape the core specification promises. */
export class UnexpectedReplyError extends QlessError {
  constructor(command: string, detail: string) {
    super(`${command}: unexpected reply from the core: ${detail}`, 'UNEXPECTED_REPLY');
  }
}

type Json = JsonValue;

/** A job as the core describes it, with empty lists normalised. */
export interface JobRecord {
  jid: string;
  klass: string;
  queue: string;
  state: JobState;
  priority: number;
  tags: string[];
  worker: string;
  expires: number;
  retries: number;
  remaining: number;
  history: HistoryEntry[];
  dependencies: string[];
  dependents: string[];
  failure: Failure | null;
  tracked: boolean;
  spawnedFromJid: string | null;
  /** The data exactly as stored (JSON text). */
  data: string;
  /**
   * The throttles the job needs, its queue's own last; empty for a job that
   * names none (it then needs only its queue's, and its object says nothing).
   */
  throttles: string[];
  /** The trace context the job was put with (JSON text; only `pop.raw` hands it over). */
  trace?: string;
  /** What the job's current run last reported (job.progress), or null. */
  progress: ProgressValue | null;
}

/** A recurring template as the core describes it. */
export interface RecurringRecord {
  jid: string;
  klass: string;
  queue: string;
  priority: number;
  tags: string[];
  retries: number;
  interval: number;
  count: number;
  backlog: number;
  data: string;
  /** The template's throttles (its children need them); empty when it names none. */
  throttles: string[];
  /** A cron template's schedule (absent for interval templates). */
  cron?: CronRecord;
}

/** A cron template's schedule as recur.get shows it. */
export interface CronRecord {
  /** The expression as written. */
  expression: string;
  timezone: string;
  /** UTC seconds until which the stored zone table is exact (0: unknown). */
  zoneUntil: number;
  /** The time-zone database version that built the table ('' when unknown). */
  zoneTzdata: string;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A list field as an array: the core writes an empty list as `{}`. Anything
 * else that is not an array (a missing field, or an object stored by another
 * client where a list belongs) also reads as empty.
 */
export function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

/** Parse a JSON-text reply. */
export function json(command: string, reply: CoreReply): Json {
  if (typeof reply !== 'string') throw new UnexpectedReplyError(command, `expected JSON text, got ${describe(reply)}`);
  try {
    return JSON.parse(reply) as Json;
  } catch {
    throw new UnexpectedReplyError(command, `not JSON: ${describe(reply)}`);
  }
}

/** Parse a JSON-text reply that holds an object. */
export function jsonObject(command: string, reply: CoreReply): { [key: string]: Json } {
  const value = json(command, reply);
  if (!isObject(value)) throw new UnexpectedReplyError(command, `expected a JSON object, got ${describe(value)}`);
  return value;
}

/** Parse a JSON-text reply that holds a list (`{}` when empty). */
export function jsonList(command: string, reply: CoreReply): Json[] {
  const value = json(command, reply);
  if (Array.isArray(value)) return value;
  if (isObject(value) && Object.keys(value).length === 0) return [];
  throw new UnexpectedReplyError(command, `expected a JSON list, got ${describe(value)}`);
}

/** A plain Redis array of strings (`jobs`, `cancel`). */
export function strings(command: string, reply: CoreReply): string[] {
  if (!Array.isArray(reply)) throw new UnexpectedReplyError(command, `expected an array, got ${describe(reply)}`);
  return reply.map((item) => {
    if (typeof item !== 'string') throw new UnexpectedReplyError(command, `expected strings, got ${describe(item)}`);
    return item;
  });
}

/** A list of strings inside a decoded JSON value (`{}` when empty). */
export function stringList(command: string, value: unknown): string[] {
  return list(value).map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number') return String(item);
    throw new UnexpectedReplyError(command, `expected a list of strings, got ${describe(value)}`);
  });
}

/** An integer reply. */
export function integer(command: string, reply: CoreReply): number {
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'string' && reply.trim() !== '' && Number.isFinite(Number(reply))) return Number(reply);
  throw new UnexpectedReplyError(command, `expected an integer, got ${describe(reply)}`);
}

/** A bulk-string reply. */
export function text(command: string, reply: CoreReply): string {
  if (typeof reply === 'string') return reply;
  throw new UnexpectedReplyError(command, `expected a string, got ${describe(reply)}`);
}

function num(value: unknown, fallback = 0): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return fallback;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null || value === false ? '' : String(value);
}

const STATES: ReadonlySet<string> = new Set(['waiting', 'scheduled', 'depends', 'running', 'stalled', 'failed', 'complete', 'throttled']);

function history(command: string, value: unknown): HistoryEntry[] {
  return list(value).map((entry) => {
    if (!isObject(entry)) throw new UnexpectedReplyError(command, `history entry is not an object: ${describe(entry)}`);
    return { ...entry, when: num(entry['when']), what: str(entry['what']) } as HistoryEntry;
  });
}

function failure(value: unknown): Failure | null {
  if (!isObject(value) || Object.keys(value).length === 0) return null;
  return {
    group: str(value['group']),
    message: str(value['message']),
    when: num(value['when']),
    worker: str(value['worker']),
  };
}

/** A decoded job object (from get, multiget, pop, peek or the track listing). */
export function jobRecord(command: string, value: unknown): JobRecord {
  if (!isObject(value) || typeof value['jid'] !== 'string') {
    throw new UnexpectedReplyError(command, `expected a job object, got ${describe(value)}`);
  }
  const state = str(value['state']);
  if (!STATES.has(state)) throw new UnexpectedReplyError(command, `job ${value['jid']} has an unknown state ${describe(state)}`);
  const spawned = value['spawned_from_jid'];
  const data = value['data'];
  return {
    jid: value['jid'],
    klass: str(value['klass']),
    queue: str(value['queue']),
    state: state as JobState,
    priority: num(value['priority']),
    tags: stringList(command, value['tags']),
    worker: str(value['worker']),
    expires: num(value['expires']),
    retries: num(value['retries']),
    remaining: num(value['remaining']),
    history: history(command, value['history']),
    dependencies: stringList(command, value['dependencies']),
    dependents: stringList(command, value['dependents']),
    failure: failure(value['failure']),
    tracked: value['tracked'] === true,
    spawnedFromJid: typeof spawned === 'string' && spawned !== '' ? spawned : null,
    data: typeof data === 'string' ? data : JSON.stringify(data ?? {}),
    throttles: value['throttles'] === undefined ? [] : stringList(command, value['throttles']),
    progress: progressValue(value['progress']),
  };
}

/** A reported progress as `get` shows it (absent: null). */
function progressValue(value: Json | undefined): ProgressValue | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return isObject(value) ? value : null;
}

// What the core does to stored text on its way into a job object, done
// here for `pop.raw`, which hands over the stored text itself (see
// jobRecordFromFields).

/** Lua's tonumber() of stored text: decimal or hex, blanks around; anything else is nil. */
function luaNumber(value: Json | undefined): number | undefined {
  if (typeof value !== 'string' || value.trim() === '' || /^\s*[-+]?0[bBoO]/.test(value)) return undefined;
  const n = Number(value);
  return Number.isNaN(n) ? undefined : n;
}

/** 10^0 … 10^22, each exact as a double. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * A number as it reads after cjson wrote it: 14 significant digits (%.14g).
 * Exact halfway cases, which need a binary fraction ending exactly at the
 * 15th digit, round up here where C rounds to even.
 */
function cjsonNumber(n: number): number {
  if (!Number.isFinite(n) || n === 0) return n;
  if (Number.isInteger(n) && n < 1e14 && n > -1e14) return n;
  // A number that is the double nearest a decimal of 14 significant digits
  // reads back unchanged. Found without text for the usual sizes (times,
  // priorities): r, the nearest double to n rounded to 14 digits, is n.
  const a = n < 0 ? -n : n;
  if (a >= 1e-6) {
    let e = 0; // digits before the point: 10^(e-1) <= a < 10^e, or 0 for a < 1
    while (e < 14 && a >= POW10[e]!) e++;
    if (e < 14) {
      const scale = POW10[14 - e]!;
      if (Math.round(n * scale) / scale === n) return n;
    }
  }
  // Numbers written with at most 14 significant digits read back unchanged
  // (String() is much cheaper than toPrecision()).
  const text = String(n);
  if (significantDigits(text) <= 14) return n;
  return Number(n.toPrecision(14));
}

/**
 * How many significant digits the decimal text of a number has (leading
 * zeros, sign and point left out); more than any double has (99) for
 * exponent notation, which this does not read.
 */
function significantDigits(text: string): number {
  let digits = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 48 /* 0 */) {
      if (!leading) digits++;
    } else if (c > 48 && c <= 57) {
      leading = false;
      digits++;
    } else if (c !== 45 /* - */ && c !== 46 /* . */) {
      return 99;
    }
  }
  return digits;
}

/** A decoded value as it reads after a trip through cjson: numbers as above, every empty list or object `{}`. */
function cjsonValue(value: Json): Json {
  if (typeof value === 'number') return cjsonNumber(value);
  if (Array.isArray(value)) return value.length === 0 ? {} : value.map(cjsonValue);
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) out[key] = cjsonValue(item);
    return out;
  }
  return value;
}

function parseStored(command: string, text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new UnexpectedReplyError(command, `stored text is not JSON: ${describe(text)}`);
  }
}

/**
 * The stored history entries of `pop.raw` (each `[when, what, extra?]`) as
 * the entries of a job object, in one pass: the extra's fields, then
 * `when` and `what`, each value as it reads after a trip through cjson,
 * then what {@link history} makes of them (same values, keys in the same order).
 */
function historyEntries(command: string, texts: Json | undefined): HistoryEntry[] {
  const stored = list(texts);
  const entries = new Array<HistoryEntry>(stored.length);
  for (let i = 0; i < stored.length; i++) {
    const text = stored[i]!;
    const entry = typeof text === 'string' ? parseStored(command, text) : null;
    if (!Array.isArray(entry)) throw new UnexpectedReplyError(command, `history entry is not a list: ${describe(text)}`);
    const item: { [key: string]: Json } = {};
    const extra = entry[2];
    if (Array.isArray(extra)) extra.forEach((v, k) => (item[String(k + 1)] = cjsonValue(v)));
    else if (isObject(extra)) for (const key of Object.keys(extra)) item[key] = cjsonValue(extra[key]!);
    if (entry[0] !== undefined) item['when'] = cjsonValue(entry[0]);
    if (entry[1] !== undefined) item['what'] = cjsonValue(entry[1]);
    item['when'] = num(item['when']);
    item['what'] = str(item['what']);
    entries[i] = item as unknown as HistoryEntry;
  }
  return entries;
}

/** Stored text that is an empty list or object, which every list field reads as empty (and a failure as none). */
function isEmptyJson(text: unknown): boolean {
  return text === '{}' || text === '[]';
}

/**
 * `cjsonNumber(luaNumber(text) ?? 0)` for a stored number field. Plain
 * decimals of at most 14 digits (what the core writes: integers and
 * `%.14g` times) read back unchanged and need neither check; anything
 * else goes the long way.
 */
function storedNumber(value: Json | undefined): number {
  if (typeof value === 'string' && value.length > 0 && value.length <= 40) {
    let digits = 0;
    let point = false;
    let i = value.charCodeAt(0) === 45 /* - */ ? 1 : 0;
    for (; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
      else if (c === 46 /* . */ && !point) point = true;
      else break;
    }
    if (i === value.length && digits > 0) return digits <= 14 ? Number(value) : fourteenDigits(Number(value));
  }
  return cjsonNumber(luaNumber(value) ?? 0);
}

/**
 * {@link cjsonNumber} of a number of 1 or more read from a plain decimal of
 * more digits than cjson writes (the core stores times such as a lock's
 * expiry with 17): the number rounded to 14 significant digits, found
 * without text when that rounding is not a near tie. `n·10^s` (s the digits
 * kept after the point) is off by at most half a unit in its last place, so
 * unless its fraction is within that of one half, rounding it gives the
 * same integer k as rounding the exact value, and `k / 10^s` is the double
 * nearest the 14-digit decimal, which is what reading cjson's text gives.
 */
function fourteenDigits(n: number): number {
  if (n >= 1 && n < 1e14) {
    let e = 1; // digits before the point
    while (n >= POW10[e]!) e++;
    const scale = POW10[14 - e]!;
    const x = n * scale;
    const k = Math.round(x);
    if (Math.abs(Math.abs(x - k) - 0.5) > x * 4e-16) return k / scale;
  }
  return cjsonNumber(n);
}

/**
 * `cjsonNumber(Math.floor(luaNumber(text) ?? 0))` for a stored integer
 * field; a plain integer of at most 14 digits (what the core writes) is
 * that number as it is.
 */
function storedInteger(value: Json | undefined): number {
  if (typeof value === 'string' && value.length > 0 && value.length <= 14) {
    let i = value.charCodeAt(0) === 45 /* - */ ? 1 : 0;
    const digitsFrom = i;
    for (; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 48 || c > 57) break;
    }
    if (i === value.length && i > digitsFrom) return Number(value);
  }
  return cjsonNumber(Math.floor(luaNumber(value) ?? 0));
}

/** A list field as Redis hands it over (jids): strings are taken as they are, anything else as a job object would show it. */
function storedJids(command: string, value: Json | undefined): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.slice() as string[];
  return stringList(command, cjsonValue(list(value)));
}

/**
 * A job's history as `pop.raw` hands it over (the stored entries), decoded
 * when first read: a worker that never looks at a popped job's history
 * pays no JSON.parse for it. A stored entry that is not a list is reported
 * then, as an {@link UnexpectedReplyError} of the pop.
 */
export class StoredHistory {
  readonly #command: string;
  readonly #texts: Json | undefined;

  constructor(command: string, texts: Json | undefined) {
    this.#command = command;
    this.#texts = texts;
  }

  /** The entries as a job object shows them (see historyEntries). */
  decode(): HistoryEntry[] {
    return historyEntries(this.#command, this.#texts);
  }
}

/** A job record from `pop.raw`: its history still in the stored form (see {@link StoredHistory}). */
export interface PoppedRecord extends Omit<JobRecord, 'history'> {
  history: StoredHistory;
}

/** A popped record with its history decoded: the JobRecord `get` would have given. */
export function decodedRecord(record: PoppedRecord): JobRecord {
  return { ...record, history: record.history.decode() };
}

/**
 * A job from `pop.raw`: the stored fields (jid … spawned_from_jid), tracked,
 * dependents, dependencies and the stored history entries. They read as
 * the job object the core would have encoded (same conversions, same
 * rounding of numbers), so a popped job looks the same whichever way it was
 * fetched. The record is built straight from the fields, with the common
 * cases (no tags, no failure, plain numbers) taken without parsing.
 */
export function jobRecordFromFields(command: string, value: unknown): PoppedRecord {
  if (!Array.isArray(value) || value.length < 17) {
    throw new UnexpectedReplyError(command, `expected the fields of a job, got ${describe(value)}`);
  }
  const f = value as Array<Json | undefined>;
  const jid = f[0];
  if (typeof jid !== 'string') throw new UnexpectedReplyError(command, `expected a job object, got ${describe(f)}`);
  const state = typeof f[2] === 'string' ? f[2] : '';
  if (!STATES.has(state)) throw new UnexpectedReplyError(command, `job ${jid} has an unknown state ${describe(state)}`);
  const storedTags = f[10];
  const storedFailure = f[11];
  const spawned = f[12];
  const data = f[9];
  const record: PoppedRecord = {
    jid,
    klass: typeof f[1] === 'string' ? f[1] : '',
    queue: typeof f[3] === 'string' ? f[3] : '',
    state: state as JobState,
    priority: storedNumber(f[5]),
    tags: isEmptyJson(storedTags) ? [] : stringList(command, storedObject(command, storedTags)),
    worker: typeof f[4] === 'string' ? f[4] : '',
    expires: storedNumber(f[6]),
    retries: storedNumber(f[7]),
    remaining: storedInteger(f[8]),
    history: new StoredHistory(command, f[16]),
    dependencies: storedJids(command, f[15]),
    dependents: storedJids(command, f[14]),
    failure: isEmptyJson(storedFailure) ? null : failure(storedObject(command, storedFailure)),
    tracked: f[13] === 1,
    spawnedFromJid: typeof spawned === 'string' && spawned !== '' ? spawned : null,
    // As a job object shows data that is not text: the JSON of `false`.
    data: typeof data === 'string' ? data : 'false',
    throttles: typeof f[17] === 'string' ? stringList(command, parseStored(command, f[17])) : [],
    progress: null,
  };
  if (typeof f[18] === 'string') record.trace = f[18];
  return record;
}

/** A stored JSON field (tags, failure) as a job object shows it: absent or `false` reads as `{}`. */
function storedObject(command: string, stored: Json | undefined): Json {
  const decoded = typeof stored === 'string' ? parseStored(command, stored) : false;
  return decoded === false ? {} : cjsonValue(decoded);
}

/** What a `pop.raw` reply says: the jobs, or how long a rate limit holds them back. */
export interface PopReply {
  records: PoppedRecord[];
  /**
   * Set when the queue's rate limit allowed no start now while jobs wait:
   * seconds until the next start may be made (the core's `wait` reply).
   */
  rateWaitSeconds: number | undefined;
}

/** A `pop.raw` reply: a list of jobs as {@link jobRecordFromFields} reads them, or the pair `wait`, seconds. */
export function popReply(command: string, reply: CoreReply): PopReply {
  if (!Array.isArray(reply)) throw new UnexpectedReplyError(command, `expected a list of jobs, got ${describe(reply)}`);
  if (reply[0] === 'wait') {
    const seconds = Number(reply[1]);
    if (!Number.isFinite(seconds) || seconds < 0) throw new UnexpectedReplyError(command, `expected a wait in seconds, got ${describe(reply)}`);
    return { records: [], rateWaitSeconds: seconds };
  }
  return { records: reply.map((value) => jobRecordFromFields(command, value)), rateWaitSeconds: undefined };
}

/** The jobs of a `pop.raw` reply (none when a rate limit held them back). */
export function jobRecordsFromFields(command: string, reply: CoreReply): PoppedRecord[] {
  return popReply(command, reply).records;
}

/** A decoded recurring template (from recur.get). */
export function recurringRecord(command: string, value: unknown): RecurringRecord {
  if (!isObject(value) || typeof value['jid'] !== 'string') {
    throw new UnexpectedReplyError(command, `expected a recurring job object, got ${describe(value)}`);
  }
  const data = value['data'];
  return {
    jid: value['jid'],
    klass: str(value['klass']),
    queue: str(value['queue']),
    priority: num(value['priority']),
    tags: stringList(command, value['tags']),
    retries: num(value['retries']),
    interval: num(value['interval']),
    count: num(value['count']),
    backlog: num(value['backlog']),
    data: typeof data === 'string' ? data : JSON.stringify(data ?? {}),
    throttles: value['throttles'] === undefined ? [] : stringList(command, value['throttles']),
    ...(typeof value['cron'] === 'string'
      ? {
          cron: {
            expression: value['cron'],
            timezone: str(value['timezone']),
            zoneUntil: num(value['zone_until']),
            zoneTzdata: str(value['zone_tzdata']),
          },
        }
      : {}),
  };
}

/** Per-queue counts (from `queues`). */
export function queueCounts(command: string, value: unknown): QueueCounts {
  if (!isObject(value)) throw new UnexpectedReplyError(command, `expected queue counts, got ${describe(value)}`);
  return {
    name: str(value['name']),
    waiting: num(value['waiting']),
    running: num(value['running']),
    stalled: num(value['stalled']),
    scheduled: num(value['scheduled']),
    depends: num(value['depends']),
    recurring: num(value['recurring']),
    paused: value['paused'] === true,
  };
}

function timing(value: unknown): TimingStats {
  const v = isObject(value) ? value : {};
  return {
    count: num(v['count']),
    mean: num(v['mean']),
    std: num(v['std']),
    histogram: list(v['histogram']).map((n) => num(n)),
  };
}

/** A queue's statistics (from `stats`). */
export function queueStats(command: string, reply: CoreReply): QueueStats {
  const value = jsonObject(command, reply);
  return {
    retries: num(value['retries']),
    failed: num(value['failed']),
    failures: num(value['failures']),
    wait: timing(value['wait']),
    run: timing(value['run']),
  };
}

/** Worker listing (from `workers`), each with the time it was last seen from `seen` (name → seconds). */
export function workerCounts(command: string, reply: CoreReply, seen: ReadonlyMap<string, number> = new Map()): WorkerCounts[] {
  return jsonList(command, reply).map((value) => {
    if (!isObject(value)) throw new UnexpectedReplyError(command, `expected a worker, got ${describe(value)}`);
    const name = str(value['name']);
    return { name, jobs: num(value['jobs']), stalled: num(value['stalled']), lastSeen: seen.get(name) ?? null };
  });
}

/** A Redis `ZRANGE … WITHSCORES` reply as member → score. */
export function scores(command: string, reply: unknown): Map<string, number> {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw new UnexpectedReplyError(command, `expected members with scores, got ${describe(reply)}`);
  const result = new Map<string, number>();
  for (let i = 0; i < reply.length; i += 2) result.set(String(reply[i]), num(reply[i + 1]));
  return result;
}

/** One worker's jobs (from `workers <name>`). */
export function workerJobs(command: string, reply: CoreReply): WorkerJobs {
  const value = jsonObject(command, reply);
  return { jobs: stringList(command, value['jobs']), stalled: stringList(command, value['stalled']) };
}

/** Failure groups and their sizes (from `failed`), groups in name order (the core's order means nothing). */
export function failedCounts(command: string, reply: CoreReply): Record<string, number> {
  const value = jsonObject(command, reply);
  const result: Record<string, number> = {};
  for (const group of Object.keys(value).sort()) result[group] = num(value[group]);
  return result;
}

/** A `{total, jobs}` page of jids (from `failed <group>` and `tag get`). */
export function jidPage(command: string, reply: CoreReply): { total: number; jids: string[] } {
  const value = jsonObject(command, reply);
  return { total: num(value['total']), jids: stringList(command, value['jobs']) };
}

/** The config listing (from `config.get` without an option). */
export function configAll(command: string, reply: CoreReply): { [key: string]: Json } {
  return jsonObject(command, reply);
}
