/**
 * The shapes the library hands to callers: JSON values, job states, history
 * entries, counts and statistics. Everything here is plain data; the classes
 * that act on it live in job.ts, queue.ts and friends.
 */

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;

/** Any value that survives a JSON round trip unchanged. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;

/** A JSON object: what a job's `data` always is. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * What a running job reports with {@link Job.progress}: a percentage from 0
 * to 100, or a small JSON object of the job's own making (at most 1024
 * bytes as JSON), e.g. `{ done: 40, of: 200, step: 'resize' }`.
 */
export type ProgressValue = number | JsonObject;

/**
 * Where a job is in its life. `stalled` is only reached through
 * {@link Job.timeout}; a job whose lock merely expired stays `running` until a
 * pop of its queue notices.
 */
export type JobState = 'waiting' | 'scheduled' | 'depends' | 'running' | 'stalled' | 'failed' | 'complete'
  // Parked until a throttle it needs has room (see client.throttles).
  | 'throttled';

/**
 * What {@link Job.complete} reports: `complete` for a final completion, else
 * the state the job took in its next queue (`scheduled` when advanced with a
 * delay, `depends` when it waits for other jobs).
 */
export type CompleteResult = 'complete' | 'waiting' | 'scheduled' | 'depends';

/** One entry of a job's history, oldest first. */
export interface HistoryEntry {
  /** Whole seconds since the epoch. */
  when: number;
  /** `put`, `popped`, `done`, `failed`, `timed-out`, or a message given to {@link Job.log}. */
  what: string;
  /** For `put`: the queue the job was put into. */
  q?: string;
  /** For `popped` and `failed`: the worker involved. */
  worker?: string;
  /** For `failed`: the failure group. */
  group?: string;
  /** Fields of the data object given to {@link Job.log}. */
  [key: string]: JsonValue | undefined;
}

/** Why and when a job failed. */
export interface Failure {
  group: string;
  message: string;
  /** Seconds since the epoch. */
  when: number;
  /** The worker that failed it; `''` when it ran out of retries. */
  worker: string;
}

/** How many jobs a queue holds in each state. */
export interface QueueCounts {
  name: string;
  /** Ready to pop (includes jobs sent back by `timeout`). */
  waiting: number;
  /** Handed out and still within their lock. */
  running: number;
  /** Handed out, lock expired, not yet noticed by a pop. */
  stalled: number;
  /** Waiting for their delay to pass. */
  scheduled: number;
  /** Waiting for other jobs to complete. */
  depends: number;
  /** Recurring templates attached to the queue. */
  recurring: number;
  paused: boolean;
}

/** Wait-time or run-time statistics of one queue for one day. */
export interface TimingStats {
  /** Number of samples. */
  count: number;
  /** Mean in seconds. */
  mean: number;
  /** Sample standard deviation in seconds. */
  std: number;
  /**
   * 148 buckets: seconds 0–59 (indices 0–59), minutes 1–59 (60–118),
   * hours 1–23 (119–141), days 1–6 (142–147).
   */
  histogram: number[];
}

/** A queue's statistics for the UTC day containing the requested date. */
export interface QueueStats {
  /** Lock expiries noticed that day. */
  retries: number;
  /** Jobs that failed that day and are still failed (can go negative, see the core spec). */
  failed: number;
  /** Failures that day, never decremented. */
  failures: number;
  /** Time from put (or previous pop) to pop. */
  wait: TimingStats;
  /** Time from pop to completion. */
  run: TimingStats;
}

/** One worker as listed by {@link Workers.counts}. */
export interface WorkerCounts {
  name: string;
  /** Jobs it holds with a live lock. */
  jobs: number;
  /** Jobs whose lock expired without a pop noticing yet. */
  stalled: number;
  /**
   * When the core last heard from it (its latest pop or heartbeat), in
   * seconds since the epoch; `null` if it was forgotten while being listed.
   */
  lastSeen: number | null;
}

/** The jids a worker holds, as listed by {@link Workers.get}. */
export interface WorkerJobs {
  /** Live locks, latest expiry first. */
  jobs: string[];
  /** Expired locks, latest expiry first. */
  stalled: string[];
}

/** One page of a tag's jobs. */
export interface TaggedJids {
  /** Number of jobs carrying the tag, whatever the page. */
  total: number;
  jids: string[];
}

/** A value of the core configuration; see {@link Config} for the typing rule. */
export type ConfigValue = string | number;

/** Options the core knows about; any other name is accepted too. */
export type KnownConfigOption =
  | 'application'
  | 'job-layout'
  | 'heartbeat'
  | 'grace-period'
  | 'stats-history'
  | 'histogram-history'
  | 'jobs-history'
  | 'jobs-history-count'
  | 'max-worker-age'
  | 'max-job-history'
  | 'max-pop-retry'
  | `${string}-heartbeat`
  | `${string}-max-concurrency`
  | `${string}-max-pop-retry`
  | `${string}-rate-limit`
  | `${string}-rate-window`;

/** A configuration option name, with the known ones offered by editors. */
// `string & {}` keeps the literal suggestions while accepting any name.
export type ConfigOption = KnownConfigOption | (string & {});
