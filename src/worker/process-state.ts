/**
 * Whether a child process is stopped by a signal (SIGSTOP, SIGTSTP, SIGTTIN,
 * SIGTTOU), read from `/proc/<pid>/stat` on Linux.
 *
 * The supervisor keeps heartbeating a child's jobs for as long as the child
 * exists, so that a job whose code blocks the event loop keeps its lock. A
 * child stopped by a signal also exists but runs nothing: its jobs would stay
 * locked, unfinished, for as long as it stays stopped. Telling the two apart
 * needs the kernel's view of the process, which only /proc gives.
 *
 * A process stopped by a debugger (state `t`, tracing stop) is left alone:
 * somebody is looking at it on purpose. Where /proc does not exist (macOS)
 * nothing is ever reported stopped.
 */
import { readFileSync } from 'node:fs';

export function stoppedBySignal(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // "<pid> (<comm>) <state> …": the command name may itself hold ") ", so
  // the state is the letter after the last ')'.
  const end = stat.lastIndexOf(')');
  return end >= 0 && stat.charAt(end + 2) === 'T';
}
