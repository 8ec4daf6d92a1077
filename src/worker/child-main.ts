/**
 * Entry point of a child process (forked by the supervisor). It asks for
 * its settings over IPC, then runs a {@link ChildWorker}.
 *
 * Signals: SIGINT and SIGHUP are ignored (they reach the whole process
 * group from a terminal; the supervisor decides and tells the child);
 * SIGTERM and SIGQUIT stop this child gracefully; SIGUSR2 logs its status.
 */
import { ChildWorker } from './child.js';
import { sendToParent } from './parent.js';
import { errorFields } from './logger.js';
import { isParentMessage, type ChildInit } from './protocol.js';
import { EXIT } from './signals.js';

for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

let worker: ChildWorker | undefined;
let options: ChildInit['options'] | undefined;
let early: 'stop' | undefined;

for (const signal of ['SIGTERM', 'SIGQUIT'] as const) {
  process.on(signal, () => {
    if (worker) worker.drain({ exit: EXIT.OK, why: signal });
    else process.exit(EXIT.OK);
  });
}
process.on('SIGUSR2', () => worker?.logStatus());

// Node's default for an error nobody caught is to end the process; do that,
// but say why first. The supervisor replaces the child (with back-off) and
// the jobs it ran come back when their locks expire.
process.on('uncaughtException', (error) => {
  if (worker) worker.log.fatal({ ...errorFields(error) }, 'uncaught error in a job (or the worker); the child exits');
  else console.error(error);
  process.exit(EXIT.FAILURE);
});

// Without its supervisor nobody heartbeats the jobs: finish them within
// the grace period and go.
process.on('disconnect', () => {
  if (!worker || !options) process.exit(EXIT.OK);
  worker.log.warn({ grace: options.grace }, 'the supervisor is gone; stopping');
  worker.drain({ exit: EXIT.OK, why: 'the supervisor is gone' });
  const current = worker;
  setTimeout(() => current.stopNow(), options.grace * 1000).unref();
});

process.on('message', (message: unknown) => {
  if (!isParentMessage(message)) return;
  if (message.type === 'init') {
    if (worker) return;
    start(message.init);
    return;
  }
  if (!worker) {
    if (message.type === 'stop') early = 'stop';
    return;
  }
  worker.onParentMessage(message);
});

function start(init: ChildInit): void {
  if (early === 'stop') process.exit(EXIT.OK);
  options = init.options;
  worker = new ChildWorker(init);
  worker.run().catch((error: unknown) => {
    worker?.log.fatal({ ...errorFields(error) }, 'child failed');
    process.exit(EXIT.FAILURE);
  });
}

void sendToParent({ type: 'hello' });
