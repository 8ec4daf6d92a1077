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
import { startWatchdog } from './watchdog.js';

for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

let worker: ChildWorker | undefined;
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
// gives the jobs it held back to their queues (src/worker/leftovers.ts).
process.on('uncaughtException', (error) => {
  if (worker) worker.log.fatal({ ...errorFields(error) }, 'uncaught error in a job (or the worker); the child exits');
  else console.error(error);
  process.exit(EXIT.FAILURE);
});

// Without its supervisor nobody heartbeats the jobs, and the core hands
// them out again once their locks expire: stop them and go at once. The
// IPC channel closing says so when the event loop is free; the watchdog
// thread (src/worker/watchdog.ts) says so, and acts, even when it is not.
const supervisorPid = process.ppid;
function orphaned(): void {
  if (!worker) process.exit(EXIT.OK);
  worker.orphaned();
}
process.on('disconnect', orphaned);

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
  worker = new ChildWorker(init);
  const log = worker.log;
  try {
    startWatchdog({
      parentPid: supervisorPid,
      onOrphaned: orphaned,
      onError: (error) => log.warn({ ...errorFields(error) }, 'the orphan watchdog failed; this child notices a dead supervisor only when its event loop is free'),
      bindings: { pid: process.pid, role: 'child', child: init.index, worker: worker.name },
      logFile: init.options.logFile,
    });
  } catch (error) {
    log.warn({ ...errorFields(error) }, 'could not start the orphan watchdog; this child notices a dead supervisor only when its event loop is free');
  }
  worker.run().catch((error: unknown) => {
    worker?.log.fatal({ ...errorFields(error) }, 'child failed');
    process.exit(EXIT.FAILURE);
  });
}

void sendToParent({ type: 'hello' });
