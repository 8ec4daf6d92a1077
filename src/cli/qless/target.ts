/**
 * Where `qless-ts` connects: flags, then `$QLESS_REDIS_URL`, then the
 * default. Kept apart from connect.ts so that `--help` and usage errors
 * never load the Redis client (a good part of the start-up time).
 */
import { durabilityFromFlags, type Durability } from '../../connection/durability.js';
import { namespaceFor } from '../../connection/namespace.js';
import { DEFAULT_URL } from '../../connection/target.js';
import { parseConnectionUrl, redactUrl as redact } from '../../connection/url.js';
import { UsageError } from './exit.js';

/** The library's default URL (from src/connection/target.ts, which loads no Redis client). */
export { DEFAULT_URL };

/** The connection options every subcommand accepts. */
export interface ConnectionFlags {
  host?: string;
  port?: number;
  /** `--redis <url>`, the name all three binaries share. */
  redis?: string;
  /** `--url`: the older spelling of `--redis`, still accepted (hidden from --help). */
  url?: string;
  waitReplicas?: string;
  waitTimeout?: string;
  namespace?: string;
}

/** A resolved connection target: a URL (any form of src/connection/url.ts), or a host and port; and the durability asked for. */
export type Target = ({ kind: 'url'; url: string; label: string } | { kind: 'host'; host: string; port: number; label: string }) & {
  durability?: Durability | undefined;
  /** `--namespace` (or `$QLESS_NAMESPACE`): the namespace to act in; undefined for the default one. */
  namespace?: string | undefined;
};

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;

/** The URL, checked by the rule every binary shares (an InvalidArgumentError, exit 2, names what is wrong). */
function checkUrl(url: string, from: string): string {
  parseConnectionUrl(url, from);
  return url;
}

/**
 * Precedence: `--redis` (or its old name `--url`), else `--host` holding a URL, else `--host`/`--port`
 * (either may be left out: 127.0.0.1, 6379), else `$QLESS_REDIS_URL`, else
 * redis://127.0.0.1:6379. Mixing a URL with `--port` is refused rather than
 * silently resolved.
 */
export function resolveTarget(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const where = resolveWhere(flags, env);
  const namespace = namespaceFor(flags.namespace, where.kind === 'url' ? where.url : `redis://${where.host}:${where.port}`, '--namespace', env);
  const label = namespace === undefined ? where.label : `${where.label} (namespace ${namespace})`;
  return { ...where, label, durability: durabilityFromFlags(flags.waitReplicas, flags.waitTimeout), namespace };
}

function resolveWhere(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Target {
  const hostIsUrl = flags.host !== undefined && flags.host.includes('://');
  if (flags.redis !== undefined && flags.url !== undefined) throw new UsageError('give --redis <url> once (--url is its older name)');
  const given = flags.redis ?? flags.url;
  if (given !== undefined) {
    const flag = flags.redis !== undefined ? '--redis' : '--url';
    if (flags.host !== undefined || flags.port !== undefined) throw new UsageError(`give either ${flag} <url> or --host/--port, not both`);
    const url = checkUrl(given, flag);
    return { kind: 'url', url, label: redact(url) };
  }
  if (hostIsUrl) {
    if (flags.port !== undefined) throw new UsageError('--port cannot be combined with a URL given as --host; put the port in the URL');
    const url = checkUrl(flags.host!, '--host');
    return { kind: 'url', url, label: redact(url) };
  }
  if (flags.host !== undefined || flags.port !== undefined) {
    const host = flags.host ?? DEFAULT_HOST;
    if (host === '') throw new UsageError('--host must not be empty');
    const port = flags.port ?? DEFAULT_PORT;
    return { kind: 'host', host, port, label: `${host}:${port}` };
  }
  const fromEnv = env['QLESS_REDIS_URL'];
  const url = fromEnv ? checkUrl(fromEnv, 'QLESS_REDIS_URL') : DEFAULT_URL;
  return { kind: 'url', url, label: redact(url) };
}
