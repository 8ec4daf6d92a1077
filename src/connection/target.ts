/**
 * Where a binary connects, from its command line and environment: the one
 * rule `qless-ts-worker`, `qless-ts` and `qless-ts-web` share for `--host`,
 * `--port` and `$QLESS_REDIS_URL`. The result is a URL of one of the forms
 * of url.ts, checked, so a bad one is refused before anything starts.
 */
import { InvalidArgumentError } from '../errors.js';
import { looksLikeUrl, parseConnectionUrl, redactUrl, REDIS_PORT } from './url.js';

/** Where {@link resolveRedisUrl} goes when nothing names a Redis. */
export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** The connection settings of a command line, as given (strings from commander, or numbers). */
export interface ConnectionFlags {
  /** A URL of any supported form (`--redis`; `--url` is its older spelling in qless-ts). */
  url?: string;
  /** A URL, or a host name (`host`, `host:port`, `[::1]:port`). */
  host?: string;
  /** The port, with a host name (or to change the port of `$QLESS_REDIS_URL`). */
  port?: string | number;
}

function portOf(value: string | number, flag: string): number {
  const text = String(value).trim();
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < 1 || number > 65535) {
    throw new InvalidArgumentError(`${flag} must be a port number from 1 to 65535, got "${value}"`);
  }
  return number;
}

/**
 * The URL a command line names. Precedence: `url`, else `host` holding a
 * URL, else `host` as a host name (with `port`, or `host:port`; port 6379
 * otherwise), else `$QLESS_REDIS_URL` (its port replaced by `port` when
 * given), else {@link DEFAULT_URL}. Contradictions (a URL together with a
 * port, `--url` together with `--host`) are refused rather than guessed.
 */
export function resolveRedisUrl(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): string {
  const { url, host } = flags;
  const port = flags.port === undefined ? undefined : portOf(flags.port, '--port');
  if (url !== undefined) {
    if (host !== undefined || port !== undefined) throw new InvalidArgumentError('give either --redis <url> or --host/--port, not both');
    parseConnectionUrl(url, '--redis');
    return url;
  }
  if (host !== undefined && host !== '') {
    if (looksLikeUrl(host)) {
      if (port !== undefined) throw new InvalidArgumentError(`--host ${redactUrl(host)} is a URL: put the port in it instead of giving --port`);
      parseConnectionUrl(host, '--host');
      return host;
    }
    const match = /^(\[[0-9a-f:.]+\]|[^\s:/?#@[\]]+)(?::(\d*))?$/i.exec(host);
    if (!match) throw new InvalidArgumentError(`--host must be a Redis URL or a host name (host or host:port), got "${host}"`);
    if (match[2] !== undefined && port !== undefined) throw new InvalidArgumentError(`--host ${host} already names a port; drop --port`);
    const finalPort = match[2] !== undefined ? portOf(match[2], '--host') : port ?? REDIS_PORT;
    return `redis://${match[1]}:${finalPort}`;
  }
  const fromEnv = env['QLESS_REDIS_URL'] || DEFAULT_URL;
  const target = parseConnectionUrl(fromEnv, '$QLESS_REDIS_URL');
  if (port === undefined) return fromEnv;
  if (target.topology !== 'standalone') {
    throw new InvalidArgumentError('--port cannot change the port of a Sentinel URL in $QLESS_REDIS_URL: give the Sentinels\' ports in the URL');
  }
  const withPort = new URL(fromEnv);
  withPort.port = String(port);
  return withPort.toString();
}
