/**
 * One supervisor per work directory.
 *
 * Child k of every supervisor works in `<workdir>/qless-ts-workers/sandbox-<k>/`
 * and empties it between jobs. Two daemons started with the same `--workdir`
 * (two service units with the same working directory, say) would share
 * those sandboxes, and each would delete the files of the job the other is
 * running. So a supervisor claims the directory before it forks: it writes
 * `supervisor.pid` there with its pid, its host and when its process started,
 * and another supervisor that finds a live claim refuses to start.
 *
 * A claim whose process is gone (a supervisor that was killed, a machine or
 * container that restarted: same pid, another process) is stale and taken
 * over. A claim written on another host cannot be checked from here; it is
 * taken over with a warning rather than keeping this daemon from working.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { workersDir } from './sandbox.js';

/** The claim file, next to the sandboxes. */
export function claimFile(workdir: string): string {
  return join(workersDir(workdir), 'supervisor.pid');
}

/** What a claim file holds. */
interface Claim {
  pid: number;
  host: string;
  /** The process's start time as the kernel counts it (Linux), so that a reused pid is told apart. */
  started: string | undefined;
}

/** Another supervisor is working in this directory. */
export class WorkdirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `another qless-ts-worker (pid ${pid}) already runs jobs in ${dir}; two supervisors sharing its sandboxes would delete each other's job files. ` +
        'Give this one its own --workdir, or stop the other one first',
    );
    this.name = 'WorkdirInUseError';
  }
}

/** What the claim decided: taken (perhaps over a stale or foreign claim), with a note for the log. */
export interface ClaimOutcome {
  file: string;
  /** Set when an earlier claim was replaced: why it did not count. */
  replaced?: string;
  /** Set when the replaced claim could not be checked (written on another host). */
  unverified?: boolean;
}

/** The start time of a process (field 22 of /proc/<pid>/stat), or undefined where there is no /proc. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readClaim(file: string): Claim | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Claim>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, started: typeof parsed.started === 'string' ? parsed.started : undefined };
  } catch {
    return undefined;
  }
}

/** Why an existing claim does not count, or undefined when it is live. */
function staleReason(claim: Claim | undefined): string | undefined {
  if (claim === undefined) return 'unreadable';
  if (claim.host !== hostname()) return `written on host ${claim.host}`;
  if (claim.pid === process.pid) return `its pid ${claim.pid} is this process's own`;
  if (!alive(claim.pid)) return `process ${claim.pid} is gone`;
  const started = startTimeOf(claim.pid);
  if (claim.started !== undefined && started !== undefined && started !== claim.started) return `pid ${claim.pid} now belongs to another process`;
  return undefined;
}

/** Write our claim if there is none (exclusive create); false when one exists. */
function create(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    const claim: Claim = { pid: process.pid, host: hostname(), started: startTimeOf(process.pid) };
    writeSync(fd, `${JSON.stringify(claim)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Claim `<workdir>/qless-ts-workers/` for this supervisor. Throws
 * {@link WorkdirInUseError} when a live supervisor holds it.
 */
export function claimWorkdir(workdir: string): ClaimOutcome {
  const file = claimFile(workdir);
  const dir = workersDir(workdir);
  mkdirSync(dir, { recursive: true });
  if (create(file)) return { file };
  const claim = readClaim(file);
  const reason = staleReason(claim);
  if (reason === undefined) throw new WorkdirInUseError(dir, claim!.pid);
  // Two supervisors finding the same stale claim both remove it; only one of
  // them then creates the file, and the other finds that live claim.
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (create(file)) return { file, replaced: reason, ...(claim !== undefined && claim.host !== hostname() ? { unverified: true } : {}) };
  const winner = readClaim(file);
  throw new WorkdirInUseError(dir, winner?.pid ?? 0);
}

/** Remove our claim on the way out (only if it is still ours). */
export function releaseWorkdir(workdir: string): void {
  const file = claimFile(workdir);
  if (readClaim(file)?.pid !== process.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone: nothing to release.
  }
}
