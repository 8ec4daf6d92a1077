/**
 * Put the jobs of one example and say how to run them:
 *
 *   node --import tsx examples/put.ts gnomes
 *   npx qless-ts-worker --path examples/jobs -q underpants -q unknown -q profit
 *
 * Connects to $QLESS_REDIS_URL (default redis://127.0.0.1:6379).
 */
import * as qless from '../src/index.js';
import { EXAMPLES, workerArgs } from './examples.js';

const name = process.argv[2];
const example = EXAMPLES.find((e) => e.name === name);
if (!example) {
  console.error(`usage: node --import tsx examples/put.ts <example>\nexamples:\n${EXAMPLES.map((e) => `  ${e.name.padEnd(16)} ${e.what}`).join('\n')}`);
  process.exit(2);
}
const client = qless.client();
const jids = await example.put(client);
console.log(`put ${jids.length} job(s) for "${example.name}": ${example.what}`);
console.log(`run them with:\n  npx qless-ts-worker ${workerArgs([example]).join(' ')}${process.env['QLESS_REDIS_URL'] ? ' --host $QLESS_REDIS_URL' : ''}`);
await client.close();
