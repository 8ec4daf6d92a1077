/**
 * The Redis URL forms qless-ts understands, parsed in one place for the
 * client and all three binaries:
 *
 * - `redis://[[user]:password@]host[:port][/db]` and `rediss://…` (TLS): one
 *   Redis server. The text is handed to ioredis as it is, after a check.
 * - `redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/<master name>[/db][?…]`
 *   and `rediss+sentinel://…` (TLS to the primary and, unless told otherwise,
 *   to the Sentinels): a Sentinel deployment. The hosts are Sentinels
 *   (default port 26379); the user and password are the primary's. The query
 *   may hold `sentinelUsername`, `sentinelPassword` (the Sentinels' own
 *   credentials) and `sentinelTls=true|false`.
 * - `redis+cluster://[[user]:password@]host[:port][,host[:port]…][/]` and
 *   `rediss+cluster://…` (TLS): a Redis Cluster. The hosts are some of its
 *   nodes (default port 6379; the others are discovered); the user and
 *   password are every node's. A cluster has no databases, and qless needs a
 *   namespace on it (given apart from the URL: `namespace`, `--namespace`).
 *
 * A URL that is wrong gets an {@link InvalidArgumentError} naming what is
 * wrong and where the URL came from (`--host`, `$QLESS_REDIS_URL`, …);
 * nothing is connected.
 */
import { InvalidArgumentError } from '../errors.js';

/** The default port of a Sentinel when a `redis+sentinel://` host names none. */
export const SENTINEL_PORT = 26379;

/** The default port of a Redis server. */
export const REDIS_PORT = 6379;

/** One Redis server, by a `redis://` or `rediss://` URL. */
export interface StandaloneTarget {
  topology: 'standalone';
  /** The URL as given (ioredis parses it). */
  url: string;
  tls: boolean;
}

/** A host and port (a Sentinel's). */
export interface HostPort {
  host: string;
  port: number;
}

/** A Sentinel deployment, by a `redis+sentinel://` or `rediss+sentinel://` URL. */
export interface SentinelTarget {
  topology: 'sentinel';
  /** The Sentinels to ask, in order. */
  sentinels: HostPort[];
  /** The name the Sentinels monitor the primary under (`sentinel monitor <name> …`). */
  name: string;
  db: number;
  /** The primary's (and replicas') credentials. */
  username?: string;
  password?: string;
  /** The Sentinels' own credentials, when they have them. */
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** TLS to the primary. */
  tls: boolean;
  /** TLS to the Sentinels. */
  sentinelTls: boolean;
}

/** A Redis Cluster, by a `redis+cluster://` or `rediss+cluster://` URL. */
export interface ClusterTarget {
  topology: 'cluster';
  /** Nodes to start from, in order. */
  nodes: HostPort[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** What a URL names. */
export type ConnectionTarget = StandaloneTarget | SentinelTarget | ClusterTarget;

type Topology = 'standalone' | 'sentinel' | 'cluster';

/** Every scheme, with what it connects to. */
const SCHEMES: Readonly<Record<string, { topology: Topology; tls: boolean }>> = {
  redis: { topology: 'standalone', tls: false },
  rediss: { topology: 'standalone', tls: true },
  'redis+sentinel': { topology: 'sentinel', tls: false },
  'rediss+sentinel': { topology: 'sentinel', tls: true },
  'redis+cluster': { topology: 'cluster', tls: false },
  'rediss+cluster': { topology: 'cluster', tls: true },
};

/** The schemes accepted today, for messages. */
export const SUPPORTED_SCHEMES = 'redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://';

/** The query options of a Sentinel URL. */
const SENTINEL_QUERY = ['sentinelUsername', 'sentinelPassword', 'sentinelTls'] as const;

/** Whether a `--host` value is a URL rather than a host name. */
export function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

function fail(source: string, text: string, problem: string): never {
  throw new InvalidArgumentError(`${source} ${problem}: ${redactUrl(text)}`);
}

function decode(part: string, what: string, source: string, text: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(source, text, `has a badly percent-encoded ${what}`);
  }
}

function port(digits: string, what: string, source: string, text: string): number {
  const value = Number(digits);
  if (!/^\d+$/.test(digits) || value < 1 || value > 65535) fail(source, text, `has a bad port "${digits}" for ${what} (1 to 65535)`);
  return value;
}

/**
 * Parse a connection URL. `source` says where it came from, for messages
 * (`--host`, `$QLESS_REDIS_URL`, `the client URL`).
 */
export function parseConnectionUrl(text: string, source = 'the Redis URL'): ConnectionTarget {
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidArgumentError(`${source} is empty: give a redis:// URL`);
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(text);
  if (!match) fail(source, text, `is not a URL (expected ${SUPPORTED_SCHEMES}…)`);
  const scheme = match[1]!.toLowerCase();
  const kind = SCHEMES[scheme];
  if (!kind) fail(source, text, `has the scheme ${scheme}://, which is not one of ${SUPPORTED_SCHEMES}`);
  if (kind.topology === 'cluster') return cluster(match[2]!, kind.tls, source, text);
  if (kind.topology === 'standalone') return standalone(text, kind.tls, source);
  return sentinel(match[2]!, kind.tls, source, text);
}

function standalone(text: string, tls: boolean, source: string): StandaloneTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(source, text, 'is not a valid URL (check the host, the port and that special characters in the password are percent-encoded)');
  }
  if (url.hostname === '') fail(source, text, 'names no host');
  if (url.hash !== '') fail(source, text, 'has a #fragment, which means nothing here');
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) fail(source, text, `has "/${path}" where the database number belongs (e.g. /2)`);
  return { topology: 'standalone', url: text, tls };
}

/** The user and password of a URL's `user:password@` part. */
function credentials(userinfo: string | undefined, source: string, text: string): { username?: string; password?: string } {
  const out: { username?: string; password?: string } = {};
  if (userinfo === undefined) return out;
  const colon = userinfo.indexOf(':');
  const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), 'user name', source, text);
  if (username !== '') out.username = username;
  if (colon !== -1) out.password = decode(userinfo.slice(colon + 1), 'password', source, text);
  return out;
}

/** A comma-separated `host[:port]` list; `what` names its hosts in messages. */
function hostList(list: string, what: string, defaultPort: number, source: string, text: string): HostPort[] {
  const hosts: HostPort[] = [];
  for (const entry of list.split(',')) {
    const hostPort = /^(\[[0-9a-f:.]+\]|[^\s[\]:/?#@]+)(?::([^:]*))?$/i.exec(entry);
    if (!hostPort) fail(source, text, `has a bad ${what} address "${entry}" (expected host or host:port)`);
    const host = hostPort[1]!.replace(/^\[(.*)\]$/, '$1');
    hosts.push({ host, port: hostPort[2] === undefined ? defaultPort : port(hostPort[2], `${what} ${host}`, source, text) });
  }
  return hosts;
}

function cluster(rest: string, tls: boolean, source: string, text: string): ClusterTarget {
  if (rest.includes('#')) fail(source, text, 'has a #fragment, which means nothing here');
  if (rest.includes('?')) fail(source, text, 'has a ?query, but a cluster URL takes no options (give the namespace apart: --namespace)');
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  if (path !== '') {
    fail(source, text, `has "/${path}" after the nodes, but a Redis Cluster has no databases (and the namespace is given apart: --namespace)`);
  }
  const at = authority.lastIndexOf('@');
  const nodes = at === -1 ? authority : authority.slice(at + 1);
  if (nodes === '') fail(source, text, 'names no cluster node (expected host:7000[,host:7001…] after //)');
  return {
    topology: 'cluster',
    nodes: hostList(nodes, 'cluster node', REDIS_PORT, source, text),
    ...credentials(at === -1 ? undefined : authority.slice(0, at), source, text),
    tls,
  };
}

function sentinel(rest: string, tls: boolean, source: string, text: string): SentinelTarget {
  if (rest.includes('#')) fail(source, text, 'has a #fragment, which means nothing here');
  const queryAt = rest.indexOf('?');
  const beforeQuery = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  const slash = beforeQuery.indexOf('/');
  const authority = slash === -1 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash === -1 ? '' : beforeQuery.slice(slash + 1);

  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hosts = at === -1 ? authority : authority.slice(at + 1);
  const target: SentinelTarget = { topology: 'sentinel', sentinels: [], name: '', db: 0, tls, sentinelTls: tls };

  Object.assign(target, credentials(userinfo, source, text));

  if (hosts === '') fail(source, text, 'names no Sentinel (expected host:26379[,host2:26379…] after //)');
  target.sentinels = hostList(hosts, 'Sentinel', SENTINEL_PORT, source, text);

  const segments = path === '' ? [] : path.split('/');
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop(); // a trailing slash
  if (segments.length === 0 || segments[0] === '') {
    fail(source, text, 'names no primary: put the name the Sentinels monitor it under after the hosts (…:26379/mymaster)');
  }
  if (segments.length > 2) fail(source, text, 'has too many path parts (expected /<master name>[/<db>])');
  target.name = decode(segments[0]!, 'master name', source, text);
  if (segments[1] !== undefined) {
    if (!/^\d+$/.test(segments[1])) fail(source, text, `has "${segments[1]}" where the database number belongs (…/mymaster/2)`);
    target.db = Number(segments[1]);
  }

  for (const key of query.keys()) {
    if (!(SENTINEL_QUERY as readonly string[]).includes(key)) {
      fail(source, text, `has an unknown option "${key}" (known: ${SENTINEL_QUERY.join(', ')})`);
    }
  }
  const sentinelUsername = query.get('sentinelUsername');
  const sentinelPassword = query.get('sentinelPassword');
  const sentinelTls = query.get('sentinelTls');
  if (sentinelUsername !== null) target.sentinelUsername = sentinelUsername;
  if (sentinelPassword !== null) target.sentinelPassword = sentinelPassword;
  if (sentinelTls !== null) {
    if (sentinelTls !== 'true' && sentinelTls !== 'false') fail(source, text, `has sentinelTls=${sentinelTls}; use true or false`);
    target.sentinelTls = sentinelTls === 'true';
  }
  return target;
}

/**
 * The URL with its passwords (the primary's and `sentinelPassword`) replaced
 * by `***`, for messages and logs. Text that is not a URL comes back as is.
 */
export function redactUrl(text: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(text);
  if (!match) return text;
  let authority = match[2]!;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon !== -1 && colon < userinfo.length - 1) authority = `${userinfo.slice(0, colon)}:***${authority.slice(at)}`;
  }
  const rest = match[3]!.replace(/([?&]sentinelPassword=)[^&#]*/gi, '$1***');
  return `${match[1]}${authority}${rest}`;
}
