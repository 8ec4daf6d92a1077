/**
 * The orphan watchdog: a child must not outlive its supervisor.
 *
 * Once the supervisor is gone nobody heartbeats the child's jobs, and the
 * core hands them to other workers when their locks expire — while the
 * child may still be running them. A child learns of its supervisor's death
 * from the IPC channel closing, but only when its event loop is free to
 * notice, and a CPU-bound job may keep it busy for hours. So each child runs
 * this watchdog on a thread of its own (worker_threads), which its main
 * event loop cannot block: every POLL_MS it compares the process's parent
 * with the supervisor's pid (an orphan is adopted by init or a subreaper).
 * When they differ it tells the main thread, which stops the child's jobs
 * and exits at once (src/worker/child.ts); if the child is still there
 * KILL_AFTER_MS later — a job blocks its event loop — the thread kills the
 * whole process with SIGKILL, after writing a log line itself.
 *
 * The thread's code is plain JavaScript given to the Worker as text, so it
 * runs the same from the built package and from the TypeScript sources.
 */
import { Worker } from 'node:worker_threads';

/** How often the watchdog looks at the parent pid (ms). */
export const POLL_MS = 250;
/** How long an orphaned child has to stop by itself before it is killed (ms). */
export const KILL_AFTER_MS = 2000;

/** What the thread needs: the pid to watch, and what to write in its one log line. */
interface WatchdogData {
  parentPid: number;
  pollMs: number;
  killAfterMs: number;
  /** Fields of the child's log lines (pid, role, child, worker). */
  bindings: Record<string, unknown>;
  logFile: string | undefined;
}

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { appendFileSync, writeSync } = require('node:fs');
const { parentPid, pollMs, killAfterMs, bindings, logFile } = workerData;
const timer = setInterval(() => {
  if (process.ppid === parentPid) return;
  clearInterval(timer);
  parentPort.postMessage({ type: 'orphaned', ppid: process.ppid });
  setTimeout(() => {
    const line = JSON.stringify({ level: 60, time: Date.now(), ...bindings, killAfterMs,
      msg: 'the supervisor is gone and this child did not stop (a job blocks its event loop): killing it' }) + '\\n';
    try { writeSync(1, line); } catch {}
    if (logFile) { try { appendFileSync(logFile, line); } catch {} }
    process.kill(process.pid, 'SIGKILL');
  }, killAfterMs);
}, pollMs);
`;

export interface WatchdogOptions {
  /** The supervisor's pid. */
  parentPid: number;
  /** Called on the main thread (when its event loop is free) once the supervisor is gone. */
  onOrphaned: () => void;
  /** The thread itself failed (the child then relies on its IPC channel alone). */
  onError: (error: Error) => void;
  /** Fields of the child's log lines (pid, role, child, worker), for the thread's one line. */
  bindings: Record<string, unknown>;
  /** `--logger`: the thread's line goes there too. */
  logFile: string | undefined;
}

/** Start the watchdog thread; it does not keep the process alive. */
export function startWatchdog(options: WatchdogOptions): Worker {
  const { parentPid, bindings, logFile } = options;
  const workerData: WatchdogData = { parentPid, pollMs: POLL_MS, killAfterMs: KILL_AFTER_MS, bindings, logFile };
  const thread = new Worker(THREAD_SOURCE, { eval: true, workerData, stdout: false, stderr: false });
  thread.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'orphaned') options.onOrphaned();
  });
  thread.on('error', options.onError);
  thread.unref();
  return thread;
}
