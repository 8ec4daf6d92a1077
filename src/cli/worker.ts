#!/usr/bin/env node
/**
 * `qless-ts-worker`: the worker daemon's command line. It parses and checks
 * the options (src/worker/options.ts), then runs the supervisor
 * (src/worker/supervisor.ts) until it shuts down. A bad command line is
 * reported on stderr with exit status 2 before anything starts.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, EXIT_TABLE, SIGNALS } from '../worker/signals.js';
import { RESERVERS } from '../worker/reserver.js';
import { UsageError, workerOptions, type RawOptions } from '../worker/options.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The package's version (dist/cli/worker.js and src/cli/worker.ts are both two levels below package.json). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The commander program. */
function program(): Command {
  return new Command('qless-ts-worker')
    .description('Run qless jobs: a supervisor forks worker processes that pop jobs from the given queues and run them.')
    .version(version(), '-V, --version')
    .addOption(new Option('-q, --queue <name>', 'queue to pop from (repeat for more; --reserver says in which order)').argParser(collect))
    .addOption(new Option('--reserver <order>', 'order the queues are asked in: ordered (as given, earlier first), round-robin (rotating), shuffled').choices(RESERVERS).default('round-robin'))
    .addOption(new Option('-p, --path <dir>', 'root directory of job modules, searched by the klass rule (repeatable; default: the current directory)').argParser(collect))
    .option('-w, --workers <n>', 'child processes (0: one per CPU)', '0')
    .option('-c, --concurrency <n>', 'jobs each child runs at once', '1')
    .option('-i, --interval <seconds>', 'sleep when no queue has work (a put wakes the worker sooner)', '5')
    .option('-n, --name <name>', 'worker name; each child reports as <name>-<pid> (default: the host name)')
    .option('--redis <url>', 'Redis: a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (default: $QLESS_REDIS_URL, else redis://127.0.0.1:6379)')
    .option('--host <host>', 'Redis host name (or a URL), instead of --redis')
    .option('--port <port>', 'Redis port, with --host <host>')
    .option('--namespace <name>', 'work in this qless namespace (keys ql:{<name>}:…; needed on a Redis Cluster; default: the default namespace)')
    .option('--wait-replicas <n>', 'after each completion, failure and retry, wait until n replicas have it (Redis WAIT; default: do not wait)')
    .option('--wait-timeout <ms>', 'with --wait-replicas: how long to wait for them (default 1000)')
    .option('-d, --workdir <dir>', 'work directory; sandboxes live in <dir>/qless-ts-workers/', '.')
    .option('-r, --resume', 'first take back the jobs still locked under this worker name')
    .addOption(new Option('-m, --import <module>', 'module to import before forking (repeatable; each child imports it too)').argParser(collect))
    .option('-t, --timeout <seconds>', 'hard time limit per job: fail it as <queue>-timeout and stop it (0: none)', '0')
    .option('--grace <seconds>', 'on SIGTERM/SIGINT, how long running jobs get to finish', '30')
    .option('--max-jobs <n>', 'replace a child after this many jobs (0: never)', '0')
    .option('--max-memory <MB>', 'replace a child, between jobs, once it uses more memory than this (0: never)', '0')
    .option('--no-reload', 'do not reload job modules that change on disk')
    .option('-v, --verbose', 'log at debug level (same as --log-level debug)')
    .option('--log-level <level>', 'lowest level logged: trace, debug, info, warn, error, fatal or silent (default: info)')
    .option('--log-format <format>', 'pretty or json (default: pretty on a terminal, json otherwise; the --logger file is always json)')
    .option('-l, --logger <file>', 'also append the log to this file (JSON lines)')
    .option('--retry-backoff <kind>', 'retry jobs that throw, for job classes without a static retry policy: fixed or exponential (default: fail at once)')
    .option('--retry-delay <seconds>', 'with --retry-backoff: the (first) delay before a retry (default 5)')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://<bind>:<port>/metrics from the supervisor')
    .option('--metrics-bind <address>', 'address of the metrics server (default 127.0.0.1)')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .addHelpText('after', HELP_AFTER);
}

// The help's tail: what a newcomer types first, and what an on-call engineer
// looks for (which signal does what, what an exit status means), from the
// same tables the supervisor acts on (src/worker/signals.ts).
const HELP_AFTER = [
  '',
  'Examples:',
  '  qless-ts-worker -q emails --redis redis://127.0.0.1:6380 -p ./jobs',
  '  qless-ts-worker -q critical -q default -q low --reserver ordered -w 4 -c 8',
  '  qless-ts-worker -q reports --timeout 600 --max-memory 512 --resume -n reports-box-1',
  '',
  'Signals (to the supervisor):',
  ...SIGNALS.map((row) => `  ${row.signal.padEnd(8)} ${row.parent.replace(/`/g, '')}`),
  '',
  'Exit codes:',
  ...EXIT_TABLE.map((row) => `  ${row.code}  ${row.meaning.replace(/`/g, '')}`),
].join('\n');

/** Parse `argv` (without node and the script) and run; resolves with the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  const command = program().exitOverride();
  let raw: RawOptions;
  try {
    command.parse([...argv], { from: 'user' });
    raw = command.opts<RawOptions>();
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    throw error;
  }
  let options;
  try {
    options = workerOptions(raw);
  } catch (error) {
    if (error instanceof UsageError) {
      // One line, as commander's own usage errors and the other two binaries.
      process.stderr.write(`qless-ts-worker: ${error.message} (see qless-ts-worker --help)\n`);
      return EXIT.USAGE;
    }
    throw error;
  }
  // Loaded only now, so that a bad command line is answered without loading the worker.
  const { runWorker } = await import('../worker/supervisor.js');
  return runWorker(options);
}

const code = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`qless-ts-worker: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  return EXIT.FAILURE;
});
process.exit(code);
