/**
 * Reading a V8 CPU profile (the `.cpuprofile` that `node --cpu-prof` writes)
 * over one measurement window: where the Node process spent its time, by
 * frame and by part of the stack (qless-ts gateway, JSON, ioredis encoding
 * and parsing, sockets, GC…), per job.
 *
 * A sample's duration is the time until the next sample, as Chrome's
 * DevTools count it. Samples outside the window (start-up, the fill of W3)
 * are left out. Time spent in a frame without a script (a V8 builtin or a
 * native binding) is reported under its own name and, for the categories,
 * charged to the nearest frame that has one.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** The 1-based source line of a position in generated code (both 0-based), when a source map knows it. */
export type SourceLines = (url: string, line: number, column: number) => number | undefined;

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The parts of a `.cpuprofile` this module reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One line of a breakdown: µs per job and share of the busy (non-idle) time. */
export interface Share {
  name: string;
  microsPerJob: number;
  share: number;
}

export interface ProfileSummary {
  windowSeconds: number;
  jobs: number;
  /** Wall-clock µs per job over the window. */
  wallMicrosPerJob: number;
  /** µs per job the process was not idle (JS, GC, native). */
  busyMicrosPerJob: number;
  /** Busy time over window time. */
  busyShare: number;
  categories: Share[];
  /** Frames by self time. */
  selfFrames: Share[];
  /** Frames by total time (the frame or anything it called), each counted once per sample. */
  totalFrames: Share[];
}

const IDLE = '(idle)';

/** Where a frame's code lives, in words. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(program)') return 'V8 and native code outside JS frames';
    return '';
  }
  const nodeModule = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (nodeModule) {
    const [, name, path] = nodeModule;
    if (name === 'ioredis') {
      if (/Command\.js$/.test(path!)) return 'ioredis: command encoding';
      if (/DataHandler\.js$/.test(path!)) return 'ioredis: reply parsing';
      if (/Pipeline\.js$|autoPipelining\.js$/.test(path!)) return 'ioredis: pipelines';
      return 'ioredis: connection, queueing, other';
    }
    if (name === 'redis-parser') return 'ioredis: reply parsing';
    if (name === 'bullmq') return 'BullMQ library';
    if (name === 'msgpackr') return 'msgpackr (BullMQ packs options with it)';
    if (name === 'tsx' || name === 'esbuild') return 'tsx loader';
    return `other library: ${name}`;
  }
  const own = /\/(src|bench)\/(.*)$/.exec(url);
  if (own) {
    const [, root, path] = own;
    if (root === 'bench') return 'benchmark harness';
    if (path === 'gateway.ts') return 'qless-ts: gateway (clock, batching, multi)';
    if (path === 'wire.ts') return 'qless-ts: wire decoding';
    if (path === 'json.ts') return 'qless-ts: data checks and JSON encoding';
    if (path === 'args.ts') return 'qless-ts: argument checks';
    return `qless-ts: ${path!.replace(/\.ts$/, '')}`;
  }
  if (url.startsWith('node:internal/stream') || /net|socket|stream_base/.test(url)) return 'Node: sockets and streams';
  if (url.startsWith('node:internal/process/task_queues') || url.startsWith('node:internal/timers')) return 'Node: promises, ticks and timers';
  if (url.startsWith('node:')) return `Node: ${url.slice('node:'.length).replace(/^internal\//, '')}`;
  return url;
}

function frameNamer(sourceLine: SourceLines): (frame: CallFrame) => string {
  return (frame) => {
    const name = frame.functionName || '(anonymous)';
    if (frame.url === '') return name;
    const short = frame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
    const line = sourceLine(frame.url, frame.lineNumber, frame.columnNumber) ?? frame.lineNumber + 1;
    return `${name} ${short}:${line}`;
  };
}

function top(map: Map<string, number>, jobs: number, busy: number, limit: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => ({ name, microsPerJob: micros / jobs, share: micros / busy }));
}

/**
 * Summarise the samples taken between `from` and `to` (µs on the profile's
 * clock, the monotonic clock of process.hrtime) for `jobs` jobs. Frames of
 * compiled code are named by their source line when `sourceLine` knows it.
 */
export function summarizeProfile(
  profile: CpuProfile,
  from: number,
  to: number,
  jobs: number,
  sourceLine: SourceLines = () => undefined,
  limit = 25,
): ProfileSummary {
  const frameName = frameNamer(sourceLine);
  if (from < profile.startTime || to > profile.endTime) {
    throw new Error('the measurement window lies outside the profile: are the window marks on the profile clock?');
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const categories = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (time < from || time >= to) continue;
    const duration = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    if (node.callFrame.functionName === IDLE) {
      idle += duration;
      continue;
    }
    busy += duration;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + duration);
    // Walk to the root: total time per frame, and the category of the nearest frame with a script.
    let category = categoryOf(node.callFrame);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (category === '') category = categoryOf(frame);
      const frameKey = frameName(frame);
      if (frame.functionName === '(root)' || seen.has(frameKey)) continue;
      seen.add(frameKey);
      total.set(frameKey, (total.get(frameKey) ?? 0) + duration);
    }
    if (category === '') category = 'native code with no JS caller';
    categories.set(category, (categories.get(category) ?? 0) + duration);
  }
  const windowMicros = to - from;
  return {
    windowSeconds: windowMicros / 1e6,
    jobs,
    wallMicrosPerJob: windowMicros / jobs,
    busyMicrosPerJob: busy / jobs,
    busyShare: busy / (busy + idle),
    categories: top(categories, jobs, busy, Number.POSITIVE_INFINITY),
    selfFrames: top(self, jobs, busy, limit),
    totalFrames: top(total, jobs, busy, limit),
  };
}

function shareTable(title: string, shares: Share[]): string {
  const lines = [`| ${title} | µs/job | share of busy time |`, '|---|---:|---:|'];
  for (const share of shares) lines.push(`| ${share.name} | ${share.microsPerJob.toFixed(2)} | ${(share.share * 100).toFixed(1)} % |`);
  return lines.join('\n');
}

/** The summary as Markdown. */
export function renderProfile(label: string, summary: ProfileSummary): string {
  return [
    `### ${label}`,
    '',
    `${summary.jobs.toLocaleString('en-US')} jobs in ${summary.windowSeconds.toFixed(2)} s: ${summary.wallMicrosPerJob.toFixed(1)} µs/job of wall time, ` +
      `of which the process was busy ${summary.busyMicrosPerJob.toFixed(1)} µs/job (${(summary.busyShare * 100).toFixed(0)} %; the rest it waited for Redis).`,
    '',
    shareTable('part of the stack (self time)', summary.categories),
    '',
    shareTable('frame (self time)', summary.selfFrames),
    '',
    shareTable('frame (total time: itself and what it called)', summary.totalFrames),
  ].join('\n');
}
