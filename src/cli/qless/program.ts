/**
 * The `qless-ts` program: global options, the subcommands, and commander
 * set up so that every failure comes back as an exit code from the table in
 * exit.ts instead of commander exiting on its own.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { EXIT, EXIT_TABLE, exitCodeOf, messageOf, type ExitCode } from './exit.js';
import * as parse from './parse.js';
import * as config from './commands/config.js';
import * as failed from './commands/failed.js';
import * as jobs from './commands/jobs.js';
import * as list from './commands/list.js';
import * as put from './commands/put.js';
import * as queues from './commands/queues.js';
import * as recurring from './commands/recurring.js';
import * as tags from './commands/tags.js';
import * as throttles from './commands/throttles.js';
import * as watch from './commands/watch.js';
import * as workers from './commands/workers.js';

function version(): string {
  // dist/cli/qless/program.js → package.json three levels up (same from src/).
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

const EPILOG = [
  '',
  'Connection: --redis <url>, or --host (a host name or a URL) and --port; default $QLESS_REDIS_URL, else redis://127.0.0.1:6379.',
  'Namespace: --namespace <name> acts in ql:{<name>}:… (a Redis Cluster needs one); default $QLESS_NAMESPACE, else the default namespace (ql:…).',
  '',
  'Names the core does not know are refused, never passed over: an unknown queue, jid or config option is an',
  'error (exit 1) and nothing is written; --force on pause/unpause, put --depends and config set does it anyway.',
  'Commands taking several jids act on each one they can, report each on its own line (failures on stderr),',
  'and exit 1 if any failed.',
  '',
  'Exit codes:',
  ...EXIT_TABLE.map(([code, meaning]) => `  ${code}  ${meaning}`),
].join('\n');

/**
 * The program, ready to parse. Settings are made before the subcommands are
 * added, so they inherit them (`output` lets tests capture help text).
 */
export function buildProgram(output?: OutputConfiguration): Command {
  const program = new Command('qless-ts');
  if (output) program.configureOutput(output);
  program
    .description('manage qless queues, jobs, workers and configuration')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .addOption(new Option('--redis <url>', 'Redis URL, e.g. redis://:secret@host:6380/2, redis+sentinel://host:26379/mymaster or redis+cluster://host:7000,host:7001/'))
    .addOption(new Option('--host <host>', 'Redis host (or a URL), instead of --redis'))
    .addOption(new Option('--port <port>', 'Redis port (default 6379)').argParser(parse.port))
    // The name before the three binaries agreed on --redis; kept so scripts keep working.
    .addOption(new Option('--url <url>', 'old name of --redis').hideHelp())
    .addOption(new Option('--wait-replicas <n>', 'after each put, completion, failure and retry, wait until n replicas have it (Redis WAIT)'))
    .addOption(new Option('--wait-timeout <ms>', 'with --wait-replicas: how long to wait for them (default 1000)'))
    .addOption(new Option('--namespace <name>', 'the qless namespace to act in (keys ql:{<name>}:…; needed on a Redis Cluster; default $QLESS_NAMESPACE, else the default namespace)'))
    .option('--json', 'machine-readable JSON on stdout')
    .addHelpText('after', EPILOG);
  queues.register(program);
  put.register(program);
  jobs.register(program);
  list.register(program);
  failed.register(program);
  workers.register(program);
  tags.register(program);
  recurring.register(program);
  config.register(program);
  throttles.register(program);
  watch.register(program);
  return program;
}

/**
 * Run the program on `argv` (without node and the script) and return the
 * exit code. Errors of commander itself were already printed by commander;
 * errors of commands are printed here, on stderr.
 */
export async function run(argv: readonly string[], stderr: NodeJS.WritableStream = process.stderr): Promise<ExitCode> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; a bare `qless-ts` (help shown
      // because no command was given) and every parse error are usage errors.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const message = messageOf(error);
    // Empty for a ReportedError: its lines are on stderr already.
    if (message !== '') stderr.write(`error: ${message}\n`);
    if (process.env['QLESS_DEBUG'] && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
