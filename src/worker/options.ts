/**
 * The worker's settings: their defaults, their checks, and the Redis target
 * built from `--host`/`--port`/`QLESS_REDIS_URL`. Everything that can be
 * wrong with a command line is found here, before any process is forked.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { durabilityFromFlags, type Durability } from '../connection/durability.js';
import { namespaceFor } from '../connection/namespace.js';
import { resolveRedisUrl } from '../connection/target.js';
import { InvalidArgumentError } from '../errors.js';
import { RESERVERS, type ReserverKind } from './reserver.js';

export { redactUrl } from '../connection/url.js';

/** A command line the worker refuses; the CLI prints the message and exits with EXIT.USAGE. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Validated settings shared by the supervisor and every child. */
export interface WorkerOptions {
  /** Queues to pop from, in the order `reserver` takes them. */
  queues: string[];
  /** How each trip orders the queues: as given, rotating (default), or shuffled (src/worker/fetch.ts). */
  reserver: ReserverKind;
  /** Absolute roots under which klass modules are looked up, in order. */
  paths: string[];
  /** Number of child processes. */
  workers: number;
  /** Jobs one child runs at once. */
  concurrency: number;
  /** Seconds to sleep when no queue had work (a `put` wakes the worker sooner). */
  interval: number;
  /** Worker name; each child reports to the core as `<name>-<pid>`. */
  name: string;
  /** Redis URL (redis://, rediss://, redis+sentinel://, redis+cluster://…; see src/connection/url.ts). */
  url: string;
  /** `--namespace`: the qless namespace to work in (undefined: the default one). */
  namespace?: string | undefined;
  /** `--wait-replicas`/`--wait-timeout`: replicas each completion, failure and retry waits for. */
  durability?: Durability | undefined;
  /** Absolute work directory; sandboxes live in `<workdir>/qless-ts-workers/`. */
  workdir: string;
  /** Take back the jobs still locked under this worker name first. */
  resume: boolean;
  /**
   * Modules imported by the supervisor before forking (and by each child
   * before its first job): absolute file names, or package names resolved
   * from `launchDir`.
   */
  imports: string[];
  /** The directory the worker was started in. */
  launchDir: string;
  /** Hard limit in seconds for one job; 0 = none. */
  timeout: number;
  /** Seconds running jobs get to finish on SIGTERM/SIGINT. */
  grace: number;
  /** Replace a child after this many jobs; 0 = never. */
  maxJobs: number;
  /** Replace a child, between jobs, once its resident memory passes this many MB; 0 = never. */
  maxMemory: number;
  /** Log at debug level. */
  verbose: boolean;
  /** The lowest level logged (`--log-level`; `--verbose` is `debug`). */
  logLevel: LogLevel;
  /** `pretty` (human-readable, the default on a terminal) or `json` (pino lines) on stdout; the `--logger` file is always JSON. */
  logFormat: LogFormat;
  /** Also append the log to this file (absolute). */
  logFile: string | undefined;
  /** Reload changed job modules (watch them, recycle children). */
  reload: boolean;
  /** `--retry-backoff`/`--retry-delay`: the retry policy of job classes without a `static retry` (none: they fail at once). */
  retry: { backoff: 'fixed' | 'exponential'; delay: number } | undefined;
  /** `--metrics-port`: serve Prometheus metrics from the supervisor on this port (undefined: no server). */
  metricsPort: number | undefined;
  /** `--metrics-bind`: the address the metrics server listens on. */
  metricsBind: string;
}

/** pino's levels, and `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'pretty' | 'json';

/** What the command line gives, before checks (strings straight from commander). */
export interface RawOptions {
  queue?: string[];
  reserver?: string;
  path?: string[];
  workers?: string;
  concurrency?: string;
  interval?: string;
  name?: string;
  redis?: string;
  host?: string;
  port?: string;
  workdir?: string;
  resume?: boolean;
  import?: string[];
  timeout?: string;
  grace?: string;
  maxJobs?: string;
  maxMemory?: string;
  verbose?: boolean;
  logger?: string;
  reload?: boolean;
  waitReplicas?: string;
  waitTimeout?: string;
  namespace?: string;
  logLevel?: string;
  logFormat?: string;
  retryBackoff?: string;
  retryDelay?: string;
  metricsPort?: string;
  metricsBind?: string;
}

function number(text: string | undefined, flag: string, fallback: number, check: { integer?: boolean; min: number; above?: boolean }): number {
  if (text === undefined) return fallback;
  const trimmed = text.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  const kind = check.integer ? 'a whole number' : 'a number';
  const bound = check.above ? `greater than ${check.min}` : `at least ${check.min}`;
  if (!Number.isFinite(value) || (check.integer && !Number.isInteger(value)) || (check.above ? value <= check.min : value < check.min)) {
    throw new UsageError(`${flag} must be ${kind} ${bound}, got "${text}"`);
  }
  return value;
}

/** One of the allowed words, else a usage error that lists them. */
function oneOf<T extends string>(text: string, flag: string, allowed: readonly T[]): T {
  const word = text.trim();
  if ((allowed as readonly string[]).includes(word)) return word as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${text}"`);
}

/** A connection setting the shared rule (src/connection) refused, as a usage error. */
function connectionSetting<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The Redis URL from `--redis`, else `--host` (a URL of any supported form, or a host name
 * with `--port`, or `host:port`), else `$QLESS_REDIS_URL`, else the default:
 * the rule every binary shares (src/connection/target.ts).
 */
export function redisUrl(host: string | undefined, port: string | undefined, env: NodeJS.ProcessEnv = process.env, url?: string): string {
  return connectionSetting(() => resolveRedisUrl({ host, port, ...(url === undefined ? {} : { url }) }, env));
}

/** Whether an `--import` names a file (a path, or a name with a script extension) rather than a package. */
export function isLocalModule(specifier: string): boolean {
  return /^\.{0,2}[\\/]/.test(specifier) || /\.[cm]?[jt]sx?$/.test(specifier);
}

/**
 * Check the raw command line and fill in defaults. Relative paths are
 * resolved against `cwd` (the directory the worker was started in).
 */
export function workerOptions(raw: RawOptions, cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): WorkerOptions {
  const queues = (raw.queue ?? []).map((q) => q.trim());
  if (queues.length === 0) throw new UsageError('no queue given: name at least one with --queue <name> (repeat it for more)');
  const empty = queues.find((q) => q === '');
  if (empty !== undefined) throw new UsageError('--queue needs a non-empty name');

  const reserverKind = raw.reserver ?? 'round-robin';
  if (!(RESERVERS as readonly string[]).includes(reserverKind)) {
    throw new UsageError(`--reserver must be one of ${RESERVERS.join(', ')}, got "${reserverKind}"`);
  }

  const paths = (raw.path && raw.path.length > 0 ? raw.path : ['.']).map((p) => resolve(cwd, p));
  for (const [i, path] of paths.entries()) {
    const given = raw.path?.[i] ?? '.';
    if (!existsSync(path)) throw new UsageError(`--path ${given}: no such directory (${path})`);
    if (!statSync(path).isDirectory()) throw new UsageError(`--path ${given}: not a directory (${path})`);
  }

  const workdir = resolve(cwd, raw.workdir ?? '.');
  if (existsSync(workdir) && !statSync(workdir).isDirectory()) throw new UsageError(`--workdir ${raw.workdir}: not a directory (${workdir})`);

  const name = raw.name ?? hostname();
  if (name.trim() === '') throw new UsageError('--name needs a non-empty name');

  const workers = number(raw.workers, '--workers', 0, { integer: true, min: 0 });
  const logFile = raw.logger === undefined ? undefined : resolve(cwd, raw.logger);
  const url = redisUrl(raw.host, raw.port, env, raw.redis);
  if (raw.logger !== undefined && raw.logger.trim() === '') throw new UsageError('--logger needs a file name');

  const verbose = raw.verbose ?? false;
  const logLevel = raw.logLevel === undefined ? (verbose ? 'debug' : 'info') : oneOf(raw.logLevel, '--log-level', LOG_LEVELS);
  // Pretty only for a person at a terminal; pipes and files get JSON lines.
  const logFormat = raw.logFormat === undefined ? (process.stdout.isTTY ? 'pretty' : 'json') : oneOf(raw.logFormat, '--log-format', ['pretty', 'json'] as const);
  if (raw.retryDelay !== undefined && raw.retryBackoff === undefined) throw new UsageError('--retry-delay needs --retry-backoff fixed|exponential');
  const retry = raw.retryBackoff === undefined
    ? undefined
    : { backoff: oneOf(raw.retryBackoff, '--retry-backoff', ['fixed', 'exponential'] as const), delay: number(raw.retryDelay, '--retry-delay', 5, { min: 0 }) };
  const metricsPort = raw.metricsPort === undefined ? undefined : number(raw.metricsPort, '--metrics-port', 0, { integer: true, min: 0 });
  if (metricsPort !== undefined && metricsPort > 65535) throw new UsageError(`--metrics-port must be a port number (0-65535), got "${raw.metricsPort}"`);
  const metricsBind = raw.metricsBind ?? '127.0.0.1';
  if (metricsBind.trim() === '') throw new UsageError('--metrics-bind needs an address');
  if (raw.metricsBind !== undefined && metricsPort === undefined) throw new UsageError('--metrics-bind needs --metrics-port');

  return {
    queues: [...new Set(queues)],
    reserver: reserverKind as ReserverKind,
    paths,
    workers: workers === 0 ? availableParallelism() : workers,
    concurrency: number(raw.concurrency, '--concurrency', 1, { integer: true, min: 1 }),
    interval: number(raw.interval, '--interval', 5, { min: 0, above: true }),
    name,
    url,
    namespace: connectionSetting(() => namespaceFor(raw.namespace, url, '--namespace', env)),
    durability: connectionSetting(() => durabilityFromFlags(raw.waitReplicas, raw.waitTimeout)),
    workdir,
    resume: raw.resume ?? false,
    imports: (raw.import ?? []).map((spec) => (isLocalModule(spec) ? resolve(cwd, spec) : spec)),
    launchDir: cwd,
    timeout: number(raw.timeout, '--timeout', 0, { min: 0 }),
    grace: number(raw.grace, '--grace', 30, { min: 0 }),
    maxJobs: number(raw.maxJobs, '--max-jobs', 0, { integer: true, min: 0 }),
    maxMemory: number(raw.maxMemory, '--max-memory', 0, { min: 0 }),
    verbose,
    logLevel,
    logFormat,
    logFile,
    reload: raw.reload ?? true,
    retry,
    metricsPort,
    metricsBind,
  };
}
