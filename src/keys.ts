/**
 * The core's key names that the client reads directly, for the few reads no
 * core command answers (a queue's waiting jids in pop order, a template's
 * next run, when each worker was last seen) and for tools that must undo
 * what they wrote (the quickstart). Every other access goes through core
 * commands. Spelled once here, so a namespaced key layout changes one file.
 */

/** Worker names, scored by when each was last seen (its latest pop or heartbeat). */
export const WORKERS = 'ql:workers';

/** Every queue name ever used, scored by when it was first seen. */
export const QUEUES = 'ql:queues';

/** Completed jobs kept for inspection, scored by completion time. */
export const COMPLETED = 'ql:completed';

/** A queue's jobs ready to pop (highest score first). */
export function queueWork(queue: string): string {
  return `ql:q:${queue}-work`;
}

/** A queue's recurring templates, scored by their next run. */
export function queueRecur(queue: string): string {
  return `ql:q:${queue}-recur`;
}

/** Every key holding one job: its record, history and dependency sets. */
export function jobKeys(jid: string): string[] {
  return [`ql:j:${jid}`, `ql:j:${jid}-history`, `ql:j:${jid}-dependents`, `ql:j:${jid}-dependencies`];
}

/** The jobs a worker holds or held. */
export function workerJobs(worker: string): string {
  return `ql:w:${worker}:jobs`;
}

/** A queue's statistics for the UTC day starting at `bin` (seconds since the epoch). */
export function queueStats(queue: string, bin: number): string[] {
  return ['stats', 'wait', 'run'].map((kind) => `ql:s:${kind}:${bin}:${queue}`);
}

/** Job records only (not a job's history or dependency sets): the suffixes the core reserves. */
const JOB_KEY_SUFFIXES = ['-history', '-dependents', '-dependencies'];

/**
 * A SCAN pattern for the records of jobs whose jid starts with `prefix`
 * (glob characters in it escaped), and the jid of a key it matched, or
 * undefined for a job's other keys. For the dashboard's search by prefix,
 * which no core command answers.
 */
export function jobRecordPattern(prefix: string): string {
  return `ql:j:${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

export function jidOfJobRecord(key: string): string | undefined {
  if (!key.startsWith('ql:j:') || JOB_KEY_SUFFIXES.some((suffix) => key.endsWith(suffix))) return undefined;
  return key.slice('ql:j:'.length);
}

/** Every throttle key (a limit `ql:th:<id>`, its `-locks` and `-pending` sets). */
export const THROTTLE_PATTERN = 'ql:th:*';

/** The throttle id a key of {@link THROTTLE_PATTERN} belongs to. */
export function throttleOf(key: string): string {
  return key.slice('ql:th:'.length).replace(/-(?:locks|pending)$/, '');
}

/** The id of a queue's own throttle. */
export function queueThrottle(queue: string): string {
  return `ql:q:${queue}`;
}
