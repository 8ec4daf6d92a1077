#!/usr/bin/env node
/**
 * `qless-ts-web`: serves the dashboard (src/web) over HTTP on its own.
 * Loopback only unless `--bind` says otherwise; a non-loopback address
 * without authentication gets a warning, since anyone who reaches it can
 * cancel jobs.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { client as connect, DEFAULT_URL, type Client } from '../client.js';
import { resolveRedisUrl } from '../connection/target.js';
import { namespaceFor } from '../connection/namespace.js';
import { redactUrl as printable } from '../connection/url.js';
import { createDashboard, type DashboardAuth } from '../web/index.js';

interface WebOptions {
  redis?: string;
  host?: string;
  port?: string;
  httpPort: number;
  bind: string;
  prefix: string;
  readOnly: boolean;
  user?: string;
  password?: string;
  token?: string;
  secret?: string;
  refresh: number;
  pageSize: number;
  trustProxy: boolean;
  namespace?: string[];
  metrics: boolean;
}

function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

/** The package's version (dist/cli/web.js and src/cli/web.ts are both two levels below package.json). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Usage errors: one line on stderr, exit 2, as qless-ts and qless-ts-worker do. */
const EXIT_USAGE = 2;

/**
 * The command line. Redis is named as in the other two binaries (--redis,
 * or --host/--port); the dashboard's own address has names of its own
 * (--bind, --http-port) so that --port always means Redis's port.
 */
function program(): Command {
  return new Command('qless-ts-web')
    .description('Serve the qless dashboard: queues, jobs, failures, workers, tags, config.')
    .version(version(), '-V, --version')
    .addOption(new Option('--redis <url>', `Redis holding the qless data: a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (default: $QLESS_REDIS_URL, else ${DEFAULT_URL})`))
    .addOption(new Option('--host <host>', 'Redis host name (or a URL), instead of --redis'))
    .addOption(new Option('--port <port>', 'Redis port, with --host <host>'))
    .addOption(new Option('--namespace <name>', 'a qless namespace to show (keys ql:{<name>}:…); repeat it for several, the page header then switches between them; "" is the default namespace (default: $QLESS_NAMESPACE, else the default namespace)').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]))
    .addOption(new Option('--http-port <port>', 'port the dashboard listens on (0 picks a free one)').argParser(integer(0, 65535)).default(5678))
    .addOption(new Option('-b, --bind <address>', 'address the dashboard listens on').default('127.0.0.1'))
    .addOption(new Option('--prefix <path>', 'serve under this path, e.g. /qless').default(''))
    .addOption(new Option('--read-only', 'hide every action and refuse every POST').default(false))
    .addOption(new Option('--user <name>', 'require HTTP basic auth with this user name (with --password)'))
    .addOption(new Option('--password <password>', 'password of --user').env('QLESS_WEB_PASSWORD'))
    .addOption(new Option('--token <token>', 'require this access token (Bearer header or sign-in form)').env('QLESS_WEB_TOKEN'))
    .addOption(new Option('--secret <secret>', 'CSRF key shared by several instances behind one address').env('QLESS_WEB_SECRET'))
    .addOption(new Option('--refresh <seconds>', 'overview refresh interval when no event arrives').argParser(seconds).default(5))
    .addOption(new Option('--page-size <n>', 'rows per page of every list').argParser(integer(1, 1000)).default(25))
    .addOption(new Option('--no-metrics', 'do not serve Prometheus metrics at /metrics'))
    .addOption(new Option('--trust-proxy', "believe a reverse proxy's X-Forwarded-Host/-Proto (only when every request comes through one)").default(false))
    .allowExcessArguments(false)
    .exitOverride()
    .addHelpText('after', '\nExamples:\n  qless-ts-web --redis redis://127.0.0.1:6380 --http-port 8080\n  qless-ts-web --host redis.internal --port 6380 --bind 0.0.0.0 --token $TOKEN\n\nExit codes:\n  0  stopped by SIGINT or SIGTERM\n  1  could not serve (the port is taken, a bad --prefix)\n  2  usage error: unknown option, invalid value')
    .showSuggestionAfterError(true);
}

function authOf(options: WebOptions): DashboardAuth | undefined {
  if (options.token !== undefined && (options.user !== undefined || options.password !== undefined)) {
    throw new InvalidArgumentError('choose either --user/--password or --token, not both');
  }
  if (options.token !== undefined) return { token: options.token };
  if (options.user !== undefined || options.password !== undefined) {
    if (!options.user || !options.password) throw new InvalidArgumentError('basic auth needs both --user and --password');
    return { user: options.user, password: options.password };
  }
  return undefined;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

function listen(server: Server, port: number, bind: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Parse `argv` (without node and the script), serve until SIGINT or SIGTERM. */
async function main(argv: readonly string[]): Promise<void> {
  const command = program();
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    // commander has printed the help, the version or its one-line error already.
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    throw error;
  }
  const options = command.opts<WebOptions>();
  let auth: DashboardAuth | undefined;
  let url = '';
  let namespaces: string[] = [];
  try {
    auth = authOf(options);
    // The rule every binary shares: --redis, else --host (a URL or host[:port]) and --port, else $QLESS_REDIS_URL.
    url = resolveRedisUrl({ ...(options.redis === undefined ? {} : { url: options.redis }), host: options.host, port: options.port });
    // Each checked as the other binaries check --namespace; '' is the default namespace.
    const given = options.namespace ?? [undefined];
    namespaces = given.map((name) => (name === '' ? '' : namespaceFor(name, url) ?? ''));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(EXIT_USAGE);
  }
  // A page should say "Redis is unreachable" within a second or two rather
  // than hang while ioredis retries each command twenty times.
  const first = namespaces[0] === '' ? undefined : namespaces[0];
  // A cluster without a namespace is refused here, before anything serves.
  const client = ((): Client => {
    try {
      return connect(url, { maxRetriesPerRequest: 1, namespace: first });
    } catch (error) {
      return command.error(`error: ${(error as Error).message}`);
    }
  })();
  const dashboard = createDashboard({
    client,
    namespaces,
    prefix: options.prefix,
    readOnly: options.readOnly,
    auth,
    secret: options.secret,
    refreshSeconds: options.refresh,
    pageSize: options.pageSize,
    trustProxy: options.trustProxy,
    metrics: options.metrics,
    onError: (error) => console.error('qless-ts-web:', error),
  });
  const prefix = options.prefix.replace(/\/+$/, '');
  const server = createServer((req, res) =>
    dashboard(req, res, () => {
      // Outside the prefix: send visitors of the bare host to the dashboard.
      if (req.url === '/' || req.url === '') {
        res.statusCode = 302;
        res.setHeader('Location', `${prefix}/`);
      } else {
        res.statusCode = 404;
      }
      res.end();
    }),
  );
  const port = await listen(server, options.httpPort, options.bind);
  const host = options.bind.includes(':') ? `[${options.bind}]` : options.bind;
  console.log(
    `qless-ts-web: serving http://${host}:${port}${prefix}/ for ${printable(url)}` +
      `${namespaces.some((name) => name !== '') ? ` (namespaces: ${namespaces.map((name) => name || 'default').join(', ')})` : ''}` +
      `${options.readOnly ? ' (read-only)' : ''}${auth ? ` (${'token' in auth ? 'token' : 'basic'} auth)` : ''}`,
  );
  if (!isLoopback(options.bind) && !auth) {
    console.error('qless-ts-web: warning: listening beyond this machine without --user/--password or --token; anyone who reaches it can change jobs');
  }

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await dashboard.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await client.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('qless-ts-web:', error);
          process.exit(1);
        },
      );
    });
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  // A port in use, a bad --prefix…: one line, not a stack trace.
  console.error(`qless-ts-web: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
