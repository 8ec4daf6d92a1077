/**
 * Put the jobs of one example into a Redis you name, and say how to run them:
 *
 *   node --import tsx examples/put.ts gnomes --redis redis://127.0.0.1:6380
 *   npx qless-ts-worker --path examples/jobs -q underpants -q unknown -q profit --host redis://127.0.0.1:6380
 *
 * The Redis is `--redis <url>`, else `$QLESS_REDIS_URL`; with neither it
 * refuses to run rather than write into whatever answers on the default
 * port. The jobs stay there for the worker; keys they write are named per
 * run (`qless-ts-examples:<run>:…`).
 */
import { Command, Option } from 'commander';
import * as qless from '../src/index.js';
import { EXAMPLES, newRun, workerArgs } from './examples.js';

const program: Command = new Command('put')
  .description("Put one example's jobs and print the qless-ts-worker command that runs them.")
  .argument('<example>', EXAMPLES.map((e) => e.name).join(', '))
  .addOption(new Option('--redis <url>', 'the Redis to put them into').env('QLESS_REDIS_URL'))
  .addHelpText('after', `\nExamples:\n${EXAMPLES.map((e) => `  ${e.name.padEnd(16)} ${e.what}`).join('\n')}`)
  .showSuggestionAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
program.parse(process.argv);
const name = program.args[0];
const { redis } = program.opts<{ redis?: string }>();
const example = EXAMPLES.find((e) => e.name === name);
if (!example) program.error(`error: no example ${name}; the examples are ${EXAMPLES.map((e) => e.name).join(', ')} (see --help)`);
if (!redis) program.error('error: name the Redis to put the jobs into with --redis <url> (or QLESS_REDIS_URL); see --help');

const client = qless.client(redis, { maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
try {
  const jids = await example.put(client, newRun());
  console.log(`put ${jids.length} job(s) for "${example.name}": ${example.what}`);
  console.log(`run them with:\n  npx qless-ts-worker ${workerArgs([example]).join(' ')} --host ${process.env['QLESS_REDIS_URL'] === redis ? '$QLESS_REDIS_URL' : redis}`);
} finally {
  await client.close();
}
