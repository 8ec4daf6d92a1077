#!/usr/bin/env node
/**
 * `qless-ts`: the management command line. The program lives in ./qless/;
 * this file only runs it and turns its result into the process's exit code.
 */
import { run } from './qless/program.js';

// `qless-ts queues | head -1`: a closed pipe is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await run(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; if a stray handle still holds the event loop,
// do not hang the operator's terminal over it.
setTimeout(() => process.exit(code), 2000).unref();
