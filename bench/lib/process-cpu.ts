/**
 * CPU time spent by client processes: this Node process (process.cpuUsage)
 * and worker daemons, each counted with every process it started, read from
 * /proc/<pid>/stat. The harness's measurement windows read both at their
 * edges, so a figure covers exactly the window.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** User + system CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

// /proc counts CPU time in clock ticks; Linux reports it to user space in
// USER_HZ, which is 100 on every architecture Node runs on.
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

/** Parse /proc/<pid>/stat; undefined when the process is gone. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or
  // parentheses itself, so the fields are counted from the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { pid, ppid, ticks };
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) stats.push(stat);
  }
  return stats;
}

/** Whether per-process CPU can be read here (Linux /proc). */
export function canReadProcessCpu(): boolean {
  return readStat(process.pid) !== undefined;
}

/**
 * CPU seconds used so far by each of `roots` and all its descendants that
 * are alive now. A worker daemon forks its workers before a window opens
 * and keeps them through it, so the difference between two readings is the
 * CPU the daemon spent in between.
 */
export function treeCpuSeconds(roots: readonly number[]): number {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (pid: number): void => {
    if (seen.has(pid)) return;
    seen.add(pid);
    const own = stats.find((stat) => stat.pid === pid);
    if (own) ticks += own.ticks;
    for (const child of children.get(pid) ?? []) visit(child.pid);
  };
  for (const root of roots) visit(root);
  return ticks / TICKS_PER_SECOND;
}
