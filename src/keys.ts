/**
 * The core's key and channel names as the client sees them, for one
 * namespace: the few reads no core command answers (a queue's waiting jids
 * in pop order, a template's next run, when each worker was last seen), the
 * pub/sub channels, tools that must undo what they wrote (the quickstart),
 * and the one key a core call passes to name its namespace. Spelt once here
 * (the core spells its own in lua/base.lua's key helpers), so no other
 * TypeScript file writes a `ql:` name.
 *
 * A namespace is a qless universe of its own. The default one has no name
 * and keeps qless-core's `ql:` keys exactly, so every qless client shares
 * it. A named one, `orders`, has keys `ql:{orders}:…`: the braces make the
 * name Redis Cluster's hash tag, so all its keys sit in one slot and the
 * core's atomic calls stay on one node. Only qless-ts knows named
 * namespaces (the core takes the prefix from the call's one key).
 */
import { InvalidArgumentError } from './errors.js';

/** The prefix of the default namespace, qless-core's. */
const DEFAULT_PREFIX = 'ql:';

/** The endings of a job's keys other than its record (the suffixes the core reserves). */
const JOB_KEY_SUFFIXES = ['-history', '-dependents', '-dependencies'];

/** What a namespace name may hold: what the core accepts (lua/base.lua, namespace_prefix). */
const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Check a namespace name: `undefined` or `''` is the default namespace
 * (returned as `undefined`), anything else must be 1 to 64 letters, digits,
 * `_`, `.` or `-`, starting with a letter or digit (so that no name reads as
 * a path segment such as `..`, or as the dashboard's `-` for the default).
 */
export function checkNamespace(name: unknown, what = 'namespace'): string | undefined {
  if (name === undefined || name === '') return undefined;
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    throw new InvalidArgumentError(`${what} must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit, got ${JSON.stringify(name)}`);
  }
  return name;
}

/** The key and channel names of one namespace. */
export class KeySpace {
  /** The namespace's name; `undefined` for the default namespace. */
  readonly namespace: string | undefined;
  /** What every key and channel name of the namespace starts with: `ql:` or `ql:{<name>}:`. */
  readonly prefix: string;
  /**
   * The KEYS a core call passes: none for the default namespace (exactly as
   * qless-core is called), the prefix itself for a named one.
   */
  readonly callKeys: readonly string[];

  constructor(namespace?: string) {
    this.namespace = checkNamespace(namespace);
    this.prefix = this.namespace === undefined ? DEFAULT_PREFIX : `${DEFAULT_PREFIX}{${this.namespace}}:`;
    this.callKeys = this.namespace === undefined ? [] : [this.prefix];
  }

  /** How people read the namespace's name: `orders`, or `the default namespace`. */
  get label(): string {
    return this.namespace === undefined ? 'the default namespace' : `namespace ${this.namespace}`;
  }

  /** Worker names, scored by when each was last seen (its latest pop or heartbeat). */
  get workers(): string {
    return `${this.prefix}workers`;
  }

  /** Every queue name ever used, scored by when it was first seen. */
  get queues(): string {
    return `${this.prefix}queues`;
  }

  /** Completed jobs kept for inspection, scored by completion time. */
  get completed(): string {
    return `${this.prefix}completed`;
  }

  /** A queue's jobs ready to pop (highest score first). */
  queueWork(queue: string): string {
    return `${this.prefix}q:${queue}-work`;
  }

  /** A queue's recurring templates, scored by their next run. */
  queueRecur(queue: string): string {
    return `${this.prefix}q:${queue}-recur`;
  }

  /** Every key holding one job: its record, history and dependency sets. */
  jobKeys(jid: string): string[] {
    const job = `${this.prefix}j:${jid}`;
    return [job, `${job}-history`, `${job}-dependents`, `${job}-dependencies`];
  }

  /** The jobs a worker holds or held. */
  workerJobs(worker: string): string {
    return `${this.prefix}w:${worker}:jobs`;
  }

  /** A queue's statistics for the UTC day starting at `bin` (seconds since the epoch). */
  queueStats(queue: string, bin: number): string[] {
    return ['stats', 'wait', 'run'].map((kind) => `${this.prefix}s:${kind}:${bin}:${queue}`);
  }

  /**
   * A SCAN pattern for the records of jobs whose jid starts with `jidPrefix`
   * (glob characters in it escaped). For the dashboard's search by prefix,
   * which no core command answers.
   */
  jobRecordPattern(jidPrefix: string): string {
    return `${this.prefix}j:${jidPrefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  }

  /** The jid of a key {@link KeySpace.jobRecordPattern} matched, or undefined for a job's other keys. */
  jidOfJobRecord(key: string): string | undefined {
    const start = `${this.prefix}j:`;
    if (!key.startsWith(start) || JOB_KEY_SUFFIXES.some((suffix) => key.endsWith(suffix))) return undefined;
    return key.slice(start.length);
  }

  /** Every throttle key (a limit `<prefix>th:<id>`, its `-locks` and `-pending` sets), as a SCAN pattern. */
  get throttlePattern(): string {
    return `${this.prefix}th:*`;
  }

  /**
   * The throttle id a key of {@link KeySpace.throttlePattern} belongs to,
   * given the key's Redis type: a throttle's own hash is named by its id
   * alone, its lock and pending sets add `-locks` and `-pending` (so a
   * throttle may itself be called `x-locks`; only the type tells).
   */
  throttleOf(key: string, type: string): string {
    const id = key.slice(`${this.prefix}th:`.length);
    return type === 'hash' ? id : id.replace(/-(?:locks|pending)$/, '');
  }

  /**
   * The id of a queue's own throttle: `ql:q:<queue>` as reqless-core names
   * it, in every namespace (an id is a name; its keys carry the namespace).
   */
  queueThrottle(queue: string): string {
    return `${DEFAULT_PREFIX}q:${queue}`;
  }

  /** A pub/sub channel of the core: `log`, or a tracked-job channel (`put`, `completed`, …). */
  channel(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** A worker's own channel (its lost locks and canceled jobs). */
  workerChannel(worker: string): string {
    return `${this.prefix}w:${worker}`;
  }

  /**
   * What a channel of this namespace is: the worker whose channel it is, or
   * the bare channel name (`log`, `put`, …); undefined for another
   * namespace's channel.
   */
  parseChannel(channel: string): { worker: string } | { name: string } | undefined {
    if (!channel.startsWith(this.prefix)) return undefined;
    const rest = channel.slice(this.prefix.length);
    // A named namespace's channels start `ql:{`: not the default namespace's.
    if (this.namespace === undefined && rest.startsWith('{')) return undefined;
    if (rest.startsWith('w:')) return { worker: rest.slice(2) };
    return { name: rest };
  }
}

/** The default namespace's names (qless-core's). */
export const DEFAULT_KEYS = new KeySpace();

/** Worker names of the default namespace. */
export const WORKERS = DEFAULT_KEYS.workers;

/** Every queue name ever used, in the default namespace. */
export const QUEUES = DEFAULT_KEYS.queues;

/** Completed jobs kept for inspection, in the default namespace. */
export const COMPLETED = DEFAULT_KEYS.completed;
